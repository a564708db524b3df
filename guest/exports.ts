// The ABI functions the runtime calls, for an aggregate's entry file to re-export:
// `export * from "thalo-node/guest/exports";`
export * from "./assembly/exports";
