// The error lives with the problem+json mapping, which also raises it; re-exported where the log is.
export { LogUnavailableError } from '../common/problem.js';
