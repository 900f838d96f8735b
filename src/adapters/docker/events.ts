/** The event a container watch reports when its connection to the engine is lost (see Engine.watch). */
export const CONNECTION_LOST = 'connection-lost';
