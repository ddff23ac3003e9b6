/**
 * A whole SQL statement with named inputs (`:userId`), readable and pastable into psql once the names
 * are replaced. Compiled once, when defined, to PostgreSQL's numbered parameters: each name becomes one
 * `$n` however often it appears, so its value is bound once. `P` names the inputs, `R` a result row.
 */
export interface Statement<P = NoParams, R = Row> {
  /** The statement as written, with its `:names`. */
  readonly source: string;
  /** As sent: `$1`, `$2`... in the order the names first appear. */
  readonly text: string;
  /** The input of each `$n`, in order. */
  readonly names: readonly string[];
  /** Carries the types only. */
  readonly types?: { params: P; row: R };
}

export type NoParams = Record<never, never>;
export type Row = Record<string, unknown>;

/**
 * `:name` is an input; `::type` casts, string literals, quoted identifiers, dollar-quoted bodies and
 * comments are left as they are (a name or an apostrophe inside them means nothing).
 */
const TOKENS = /--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'|"(?:[^"]|"")*"|\$(?<tag>[A-Za-z_]\w*)?\$[\s\S]*?\$\k<tag>\$|::|:(?<name>[A-Za-z_]\w*)/g;

export function statement<P = NoParams, R = Row>(source: string): Statement<P, R> {
  const names: string[] = [];
  const text = source.replace(TOKENS, (token: string, ...args: unknown[]) => {
    const { name } = args.at(-1) as { name?: string };
    if (!name) return token;
    const at = names.indexOf(name);
    return `$${at < 0 ? names.push(name) : at + 1}`;
  });
  return { source, text, names };
}

/** The values of a statement's `$n`, from its named inputs; a missing input is an error, not a silent null. */
export function bind<P>(s: Statement<P, unknown>, params: P): unknown[] {
  const values = new Array<unknown>(s.names.length);
  for (let i = 0; i < s.names.length; i++) {
    const name = s.names[i];
    const value = (params as Record<string, unknown>)[name];
    if (value === undefined) throw new Error(`SQL input :${name} missing (${s.source.trim().slice(0, 60)}...)`);
    values[i] = value;
  }
  return values;
}
