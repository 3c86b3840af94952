export {
  type ConfigProblem,
  type ConfigResult,
  decodeConfigBytes,
  formatPath,
  parseConfigText,
} from "./parse.ts";
export * from "./schema.ts";
