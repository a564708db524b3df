/** A database URL as messages and logs may show it: its password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL that parses: hide whatever stands between `//` and `@`.
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
