#!/usr/bin/env node
// Placeholder until the aggregate-module issue lands.
console.log('thalo: not implemented yet');
