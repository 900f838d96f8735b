import { Engine } from '../../src/adapters/docker/engine/engine.js';
import { ContainerRuntime } from '../../src/adapters/runtime/containers.js';
import { runtimeContract } from './runtime-contract.js';

runtimeContract('one container per deployment', async () => {
  const engine = await Engine.connect({ url: 'unix:///var/run/docker.sock', source: 'test' });
  return { runtime: new ContainerRuntime(engine), close: () => engine.close() };
});
