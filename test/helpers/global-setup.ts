import { execFileSync } from 'node:child_process';

function imageExists(ref: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', ref], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Engine tests need a running engine and the local base image (scripts/setup.sh provides both). The lock
 * image the tool makes on an engine the first time it needs it is removed at the end if the run made it.
 */
export default function setup(): () => void {
  if (!imageExists('busybox:1.36')) {
    throw new Error(
      'Engine tests need a running Docker Engine with the busybox:1.36 base image: run bash scripts/setup.sh first.',
    );
  }
  const lockImageBefore = imageExists('deploy-lock:1');
  return () => {
    if (!lockImageBefore) {
      try {
        execFileSync('docker', ['rmi', 'deploy-lock:1'], { stdio: 'ignore' });
      } catch {
        // in use or gone
      }
    }
  };
}
