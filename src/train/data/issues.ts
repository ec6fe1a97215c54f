// A bad input line, reported with its place. Readers collect these and skip the line, or
// (strict) stop at the first one, so a bad case never surfaces mid-epoch.

export interface DataIssue {
  file: string;
  /** 1-based line of the JSONL file. */
  line: number;
  message: string;
}

export function formatIssue(issue: DataIssue): string {
  return `${issue.file}:${issue.line}: ${issue.message}`;
}

/** Thrown in strict mode at the first issue. */
export class DataError extends Error {
  override name = 'DataError';
  constructor(readonly issue: DataIssue) {
    super(`${formatIssue(issue)} (strict mode stops at the first bad line; without --strict bad lines are skipped and reported)`);
  }
}

/** Collects issues; in strict mode the first one throws. */
export class IssueLog {
  readonly issues: DataIssue[] = [];
  constructor(private readonly strict: boolean) {}

  report(issue: DataIssue): void {
    if (this.strict) throw new DataError(issue);
    this.issues.push(issue);
  }
}
