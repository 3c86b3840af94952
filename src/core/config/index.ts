export { type ConfigProblem, type ConfigResult, formatPath, parseConfigText } from "./parse.ts";
export * from "./schema.ts";
