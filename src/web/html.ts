/** What every page of the service's own is made of: nothing inline, its assets all the service's. */

export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] ?? character);

export interface PageParts {
  /** Plain text: escaped here. */
  title: string;
  icon: string;
  stylesheet: string;
  script: { src: string; integrity?: string };
  /** The body's HTML, already escaped where it shows values. */
  body: string;
}

/**
 * A whole HTML document: one stylesheet and one deferred script of the service's (so the
 * Content-Security-Policy can be `default-src 'self'`), no referrer sent anywhere.
 */
export function htmlDocument(page: PageParts): string {
  const integrity = page.script.integrity ? ` integrity="${page.script.integrity}"` : '';
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>${escapeHtml(page.title)}</title>
  <link rel="icon" href="${page.icon}" type="image/svg+xml">
  <link rel="stylesheet" href="${page.stylesheet}">
  <script src="${page.script.src}"${integrity} defer></script>
</head>
<body>
${page.body}
</body>
</html>
`;
}
