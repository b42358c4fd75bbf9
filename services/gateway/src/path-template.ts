/**
 * google.api.http path templates of the form used in proto/: literal segments and single-segment
 * variables (`/v1/orders/{order_id}`).
 */

type Segment = { readonly literal: string } | { readonly variable: string };

export class PathTemplate {
  private constructor(
    readonly source: string,
    private readonly segments: readonly Segment[],
  ) {}

  static parse(template: string): PathTemplate {
    if (!template.startsWith('/')) throw new Error(`path template ${template}: must start with /`);
    const segments = template
      .slice(1)
      .split('/')
      .map((part): Segment => {
        const variable = /^\{([a-z_][a-z0-9_.]*)\}$/.exec(part);
        if (variable) return { variable: variable[1]! };
        if (/[{}*]/.test(part)) throw new Error(`path template ${template}: only literal segments and {field} are supported`);
        return { literal: part };
      });
    return new PathTemplate(template, segments);
  }

  /** Literal segments count: among templates matching one path, the most literal one wins. */
  get specificity(): number {
    return this.segments.filter((s) => 'literal' in s).length;
  }

  /** The field paths bound by the template's variables. */
  get variables(): string[] {
    return this.segments.flatMap((s) => ('variable' in s ? [s.variable] : []));
  }

  /** The variables' values (percent-decoded) if the path matches, otherwise undefined. */
  match(path: string): Map<string, string> | undefined {
    const parts = path.slice(1).split('/');
    if (!path.startsWith('/') || parts.length !== this.segments.length) return undefined;
    const values = new Map<string, string>();
    for (const [i, segment] of this.segments.entries()) {
      const part = parts[i]!;
      if ('literal' in segment) {
        if (part !== segment.literal) return undefined;
      } else {
        if (part === '') return undefined;
        let decoded: string;
        try {
          decoded = decodeURIComponent(part);
        } catch {
          return undefined;
        }
        values.set(segment.variable, decoded);
      }
    }
    return values;
  }

  /** The OpenAPI form of the path (`{order_id}` stays as it is). */
  toString(): string {
    return this.source;
  }
}
