import type { Engine } from './docker/engine/engine.js';

/** One `make(engine)` per engine connection, made when first asked for (the runtime, the image store of an engine). */
export function perEngine<T extends object>(make: (engine: Engine) => T): (engine: Engine) => T {
  const made = new WeakMap<Engine, T>();
  return (engine) => {
    let it = made.get(engine);
    if (!it) {
      it = make(engine);
      made.set(engine, it);
    }
    return it;
  };
}
