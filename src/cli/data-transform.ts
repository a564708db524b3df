/**
 * The `@data` transform of `thalo build`: an AssemblyScript compiler transform (asc's
 * `afterParse` hook, the way `json-as` derives its serialisers) that gives every class declared
 * `@data` the methods the guest SDK calls, written from the class's fields:
 *
 *   @data class Reserved { sku: string = ""; quantity: i64 = 0; lot: string | null = null; }
 *
 * gains `read(data: Fields)` (`this.sku = data.get<string>("sku"); …`) and `write(data: Obj)`
 * (`data.set<string>("sku", this.sku); …`), and an `@data` class that extends `Aggregate` gains
 * `snapshot()` and `restore(state)` too. The typed reading and writing (arrays, maps, nil, nested
 * classes, the field path in errors) lives in the SDK (`guest/assembly/values.ts`): the transform
 * only spells out, once per field, what a person would otherwise write three to five times.
 * Methods the class defines itself are kept.
 */
import { relative, resolve, sep } from 'node:path';
import { ASTBuilder, CommonFlags, Node, NodeKind, ParameterKind, Source, SourceKind, Tokenizer } from 'assemblyscript';
import type {
  CallExpression,
  ClassDeclaration,
  DeclarationStatement,
  FieldDeclaration,
  ImportStatement,
  MethodDeclaration,
  NamedTypeNode,
  NewExpression,
  Parser,
  PropertyAccessExpression,
  Range,
  Statement,
} from 'assemblyscript';

/** The names the transform imports from the SDK into a file with `@data` classes. */
const FIELDS = '__thalo_Fields';
const OBJ = '__thalo_Obj';

/** Types whose fields need no initial value (they start at zero). */
const VALUE_TYPES = new Set(['bool', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'isize', 'usize', 'f32', 'f64']);

/** A problem with a `@data` class, with its place (`src/aggregates/inventory/index.ts:12:3`). */
export class DataTransformError extends Error {
  override name = 'DataTransformError';
}

function place(range: Range): string {
  const line = range.source.lineAt(range.start);
  // asc's paths are relative to its base directory, the working directory here.
  const path = resolve(range.source.normalizedPath);
  const shown = path.startsWith(process.cwd() + sep) ? relative(process.cwd(), path) : path;
  return `${shown}:${line}:${range.source.columnAt()}`;
}

function isData(node: ClassDeclaration): boolean {
  return (node.decorators ?? []).some(
    (d) => d.name.kind === NodeKind.Identifier && (d.name as unknown as { text: string }).text === 'data',
  );
}

/** The statement importing the SDK in `source` (`import { … } from "thalo-node/guest"`), if any. */
function sdkImport(statements: Statement[]): ImportStatement | undefined {
  return statements.find((s): s is ImportStatement => {
    if (s.kind !== NodeKind.Import) return false;
    const statement = s as ImportStatement;
    return statement.declarations !== null && /(^|\/)guest(\/assembly)?(\/index)?$/.test(statement.internalPath);
  });
}

/** The transform; pass an instance in asc's `transforms` option. */
export class DataTransform {
  afterParse(parser: Parser): void {
    for (const source of parser.sources) {
      if (source.sourceKind !== SourceKind.User && source.sourceKind !== SourceKind.UserEntry) continue;
      checkCalls(source.statements);
      const classes = source.statements.filter(
        (s): s is ClassDeclaration => s.kind === NodeKind.ClassDeclaration && isData(s as ClassDeclaration),
      );
      if (classes.length === 0) continue;
      const sdk = sdkImport(source.statements);
      if (sdk === undefined) {
        throw new DataTransformError(
          `${place(classes[0]!.range)}: a @data class needs the guest SDK imported by name in its file, as in import { Aggregate, register } from "thalo-node/guest"`,
        );
      }
      const range = sdk.range;
      for (const [foreign, local] of [
        ['Fields', FIELDS],
        ['Obj', OBJ],
      ]) {
        if (sdk.declarations!.some((d) => d.name.text === local)) continue;
        // What the parser makes of `import { Fields as __thalo_Fields }`: the program resolves
        // imports after this hook, so the generated methods can name the SDK's types.
        const declaration = Node.createImportDeclaration(
          Node.createIdentifierExpression(foreign!, range),
          Node.createIdentifierExpression(local!, range),
          range,
        );
        sdk.declarations!.push(declaration);
      }
      for (const node of classes) addMethods(parser, node);
    }
  }
}

function addMethods(parser: Parser, node: ClassDeclaration): void {
  const name = node.name.text;
  const fields: { name: string; type: string; initial: string }[] = [];
  const methods = new Set<string>();
  for (const member of node.members) {
    if (member.kind === NodeKind.MethodDeclaration) {
      const method = member as MethodDeclaration;
      methods.add(method.name.text);
      if (method.name.text === 'constructor') {
        const required = method.signature.parameters.find((p) => p.initializer === null && p.parameterKind === ParameterKind.Default);
        if (required !== undefined) {
          throw new DataTransformError(
            `${place(required.range)}: @data class ${name}: give the constructor parameter ${required.name.text} a default value (the SDK creates a ${name} with no arguments to read one)`,
          );
        }
      }
      continue;
    }
    if (member.kind !== NodeKind.FieldDeclaration || member.is(CommonFlags.Static)) continue;
    const field = member as FieldDeclaration;
    if (field.type === null) {
      throw new DataTransformError(
        `${place(field.range)}: @data class ${name}: give the field ${field.name.text} a type (${field.name.text}: i64 = 0), which says how to read and write it`,
      );
    }
    const type = ASTBuilder.build(field.type);
    let initial = field.initializer === null ? undefined : ASTBuilder.build(field.initializer);
    if (initial === undefined && VALUE_TYPES.has(type)) initial = type === 'bool' ? 'false' : '0';
    if (initial === undefined && field.type.isNullable) initial = 'null';
    if (initial === undefined) {
      throw new DataTransformError(
        `${place(field.range)}: @data class ${name}: give the field ${field.name.text} an initial value (${field.name.text}: ${type} = …)`,
      );
    }
    fields.push({ name: field.name.text, type, initial });
  }
  const isAggregate = node.extendsType !== null && node.extendsType.name.identifier.text === 'Aggregate';
  const code: string[] = [];
  // A constructor taking every field, in order, each defaulting to its initial value:
  // `new Reserved("order-1", 3)`, and `new Reserved()` for the SDK to read one into.
  if (!isAggregate && !methods.has('constructor') && fields.length > 0) {
    const parameters = fields.map((f) => `${f.name}: ${f.type} = ${f.initial}`).join(', ');
    code.push(`constructor(${parameters}) { ${fields.map((f) => `this.${f.name} = ${f.name};`).join(' ')} }`);
  }
  if (!methods.has('read')) {
    code.push(
      `read(data: ${FIELDS}): void { ${fields.map((f) => `this.${f.name} = data.get<${f.type}>(${JSON.stringify(f.name)});`).join(' ')} }`,
    );
  }
  if (!methods.has('write')) {
    code.push(
      `write(data: ${OBJ}): void { ${fields.map((f) => `data.set<${f.type}>(${JSON.stringify(f.name)}, this.${f.name});`).join(' ')} }`,
    );
  }
  if (isAggregate && !methods.has('snapshot'))
    code.push(`snapshot(): ${OBJ} { const state = new ${OBJ}(); this.write(state); return state; }`);
  if (isAggregate && !methods.has('restore')) code.push(`restore(state: ${FIELDS}): void { this.read(state); }`);
  for (const text of code) {
    // Parsed as a member of the class from a source of its own, which compile errors quote.
    const tokenizer = new Tokenizer(new Source(SourceKind.User, `${node.range.source.normalizedPath}(@data ${name})`, text));
    const member = parser.parseClassMember(tokenizer, node);
    if (member === null)
      throw new DataTransformError(`${place(node.range)}: @data class ${name}: could not generate ${text.slice(0, 40)}…`);
    // The compiler finds a node's file, and the scope its names resolve in, through its range:
    // the generated nodes take the class's (as visitor-as's RangeTransform does), so they compile
    // as part of the user's file and a compile error in them points at the @data class.
    moveRanges(member, node.range);
    node.members.push(member as DeclarationStatement);
  }
}

/** Give `node` and every node under it `range`. */
function moveRanges(node: object, range: Range, seen = new Set<object>()): void {
  if (seen.has(node)) return;
  seen.add(node);
  for (const [key, value] of Object.entries(node)) {
    if (key === 'range' || value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      for (const item of value) if (item !== null && typeof item === 'object' && 'range' in item) moveRanges(item, range, seen);
    } else if ('range' in value) moveRanges(value, range, seen);
  }
  if ('range' in node) (node as { range: Range }).range = range;
}

/**
 * Calls the SDK checks at compile time, said here at the user's line instead: the SDK's own
 * compile errors would point into its generic code. `out.emit("Type", 42)` (a literal), and
 * `decode<X>()` or `out.emit("Type", new X(…))` of a class of this file that is not `@data` and
 * lacks the method the SDK calls (`read`, `write`).
 */
function checkCalls(statements: Statement[]): void {
  const plain = new Map<string, Set<string>>();
  for (const statement of statements) {
    if (statement.kind !== NodeKind.ClassDeclaration || isData(statement as ClassDeclaration)) continue;
    const node = statement as ClassDeclaration;
    // A subclass may inherit the method: only classes that extend nothing are judged here.
    if (node.extendsType !== null) continue;
    plain.set(node.name.text, new Set(node.members.filter((m) => m.kind === NodeKind.MethodDeclaration).map((m) => m.name.text)));
  }
  const lacking = (type: string, method: string) => plain.has(type) && !plain.get(type)!.has(method);
  walk(statements, (node) => {
    if (node.kind !== NodeKind.Call) return;
    const call = node as CallExpression;
    if (call.expression.kind !== NodeKind.PropertyAccess) return;
    const method = (call.expression as PropertyAccessExpression).property.text;
    if (method === 'emit' && call.args.length === 2) {
      const data = call.args[1]!;
      if (data.kind === NodeKind.Literal) {
        throw new DataTransformError(
          `${place(call.range)}: out.emit(type, data): data must be a @data event class (new Incremented(5)) or an Obj (new Obj().int("amount", 5)), not a literal`,
        );
      }
      const type = data.kind === NodeKind.New ? (data as NewExpression).typeName.identifier.text : undefined;
      if (type !== undefined && lacking(type, 'write')) {
        throw new DataTransformError(
          `${place(call.range)}: out.emit(type, new ${type}(…)): declare class ${type} @data (or give it write(data: Obj))`,
        );
      }
    }
    if (method === 'decode' && call.typeArguments?.length === 1 && call.typeArguments[0]!.kind === NodeKind.NamedType) {
      const type = (call.typeArguments[0] as NamedTypeNode).name.identifier.text;
      if (lacking(type, 'read')) {
        throw new DataTransformError(
          `${place(call.range)}: decode<${type}>(): declare class ${type} @data (or give it read(data: Fields))`,
        );
      }
    }
  });
}

function walk(node: unknown, visit: (node: Node) => void, seen = new Set<object>()): void {
  if (node === null || typeof node !== 'object' || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit, seen);
    return;
  }
  if (!('kind' in node) || !('range' in node)) return;
  visit(node as Node);
  for (const [key, value] of Object.entries(node)) if (key !== 'range' && typeof value === 'object') walk(value, visit, seen);
}
