/**
 * Page text with block structure, as both extraction engines emit it: a line per block,
 * whitespace collapsed inside lines, <pre> kept verbatim, table cells of a row on one line.
 */
export class TextBuilder {
  private lines: string[] = [];
  private current = '';
  private pre = 0;

  text(s: string): void {
    if (this.pre > 0) {
      const parts = s.split('\n');
      this.current += parts[0];
      for (let i = 1; i < parts.length; i++) this.newline(true), (this.current = parts[i]);
      return;
    }
    this.current += s; // whitespace is collapsed once per line, in newline()
  }

  newline(force = false): void {
    const line = this.pre > 0 ? this.current.replace(/\s+$/, '') : this.current.replace(/\s+/g, ' ').trim();
    if (line || (force && this.pre > 0)) this.lines.push(line);
    this.current = '';
  }

  /** Table cells on one row stay on one line. */
  cell(): void {
    if (this.current && !/\s$/.test(this.current)) this.current += ' ';
  }

  enterPre(): void {
    this.newline();
    this.pre++;
  }

  exitPre(): void {
    this.newline(true);
    this.pre--;
  }

  finish(): string {
    this.newline();
    return this.lines
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  }
}
