/**
 * A lazy chunk's own CSS. The main stylesheet has a 4 KiB gzip budget, so
 * rules for UI that only a lazy chunk draws travel inside that chunk
 * (tools/build_client.ts turns `import css from "./x.css"` into a minified
 * string there) and join the page as a constructed stylesheet when the
 * chunk starts. A constructed sheet needs no `style-src 'unsafe-inline'`.
 */

/** Adds `css` to the page once, after the main stylesheet in the cascade. */
export function adoptStyles(css: string): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}
