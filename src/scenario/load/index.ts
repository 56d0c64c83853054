export type { HttpTransportOptions } from './http-transport.js';
export type { LoadGeneratorEvents, LoadGeneratorOptions, LoadResult, LoadSnapshot, LoadStopOptions } from './load-generator.js';
export type { RecentLoad } from './load-recorder.js';
export type { LoadRequest, LoadTransport } from './load-transport.js';
export type { ExpectedStatus, RequestMixEntry } from './request-mix.js';
export { HttpTransport } from './http-transport.js';
export { LoadGenerator } from './load-generator.js';
export { MixRequest, RequestMix } from './request-mix.js';
