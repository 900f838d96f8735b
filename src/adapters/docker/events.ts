/** The event a container watch reports when its connection to the engine is lost (see EngineEvents.watch, engine/events.ts). */
export const CONNECTION_LOST = 'connection-lost';
