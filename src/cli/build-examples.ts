// Placeholder until the aggregate-module issue lands: builds the example modules into modules/.
console.log('no example modules to build yet');
