#!/usr/bin/env node
// Placeholder until the engine issue lands.
console.log('thalo-runtime: not implemented yet');
