/**
 * @module connectors/graphql-document
 * A GraphQL document as a step names it, checked before any message is sent:
 * its syntax (with the line and column of a mistake within the document), the
 * operation it runs (a document with several needs `operationName`), and,
 * when the connector names an SDL schema, whether it matches that schema.
 */
import { readFileSync } from 'node:fs';
import { buildSchema, GraphQLError, Kind, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { fsReason } from '../core/fs-reason.ts';

/** Where a GraphQLError points, as `line 3, column 7`; empty when it has no location. */
function at(e: GraphQLError): string {
  const loc = e.locations?.[0];
  return loc === undefined ? '' : `line ${loc.line}, column ${loc.column}`;
}

/**
 * Parses a document and checks that `operationName` picks one operation.
 * @returns the parsed document, or why it cannot be sent.
 */
export function parseDocument(source: string, operationName: string | undefined): { document: DocumentNode } | { problem: string } {
  let document: DocumentNode;
  try {
    document = parse(source);
  } catch (e) {
    if (!(e instanceof GraphQLError)) throw e;
    return { problem: `GraphQL syntax error at ${at(e)} of the document: ${e.message.replace(/^Syntax Error: /, '')}` };
  }
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length === 0) return { problem: 'the document has no operation (query, mutation or subscription) to run' };
  const names = operations.map((o) => o.name?.value).filter((n): n is string => n !== undefined);
  if (operationName !== undefined && !names.includes(operationName)) {
    return { problem: `operationName ${operationName} is not an operation of the document${names.length > 0 ? `; it has ${names.join(', ')}` : ''}` };
  }
  if (operationName === undefined && operations.length > 1) {
    return { problem: `the document has ${operations.length} operations (${names.join(', ') || 'unnamed'}); name the one to run with operationName` };
  }
  return { document };
}

/**
 * Reads and builds an SDL schema.
 * @throws Error saying why the file cannot be read or is not a schema (with the line of a syntax error).
 */
export function loadSchema(file: string): GraphQLSchema {
  let sdl: string;
  try {
    sdl = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the GraphQL schema ${file} (${fsReason(e)})`, { cause: e });
  }
  try {
    return buildSchema(sdl);
  } catch (e) {
    const where = e instanceof GraphQLError && at(e) !== '' ? ` at ${at(e)}` : '';
    throw new Error(`${file} is not a GraphQL schema${where}: ${(e as Error).message.replace(/^Syntax Error: /, '')}`, { cause: e });
  }
}

/** What in the document does not match the schema, each mistake with its line within the document. */
export function schemaProblems(schema: GraphQLSchema, document: DocumentNode): string[] {
  return validate(schema, document).map((e) => (at(e) === '' ? e.message : `${at(e)}: ${e.message}`));
}
