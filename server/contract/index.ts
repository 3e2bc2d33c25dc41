// The typed contract between server and client: REST shapes and the Socket.IO event map.
// Client code imports from here (types only); the server produces exactly these shapes.
export * from './areas.js';
export * from './results.js';
export * from './socket.js';
export * from './investigation.js';
export * from './capture.js';
