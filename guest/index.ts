// The guest SDK as a package import: `import { Aggregate, register } from "thalo-node/guest"`.
// See docs/guest-sdk.md.
export * from "./assembly/index";
