import { execFileSync } from 'node:child_process';

/** Engine tests need a running engine and the local base image; scripts/setup.sh provides both. */
export default function setup(): void {
  try {
    execFileSync('docker', ['image', 'inspect', 'busybox:1.36'], { stdio: 'ignore' });
  } catch {
    throw new Error('Engine tests need a running Docker Engine with the busybox:1.36 base image: run bash scripts/setup.sh first.');
  }
}
