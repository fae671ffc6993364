// The page's policy forbids <style> elements (a script-inserted one is ignored and reported), but
// the terminal (xterm.js) writes its sizes and colours into <style> elements it creates. This
// hands out, for 'style', an element that carries its text into a constructed stylesheet instead,
// which the policy allows: only this page's own scripts can create one, as with the bundle itself.

class ConstructedStyle extends HTMLElement {
  readonly #sheet = new CSSStyleSheet();

  override get textContent(): string {
    return Array.from(this.#sheet.cssRules, (rule) => rule.cssText).join('\n');
  }

  override set textContent(css: string | null) {
    this.#sheet.replaceSync(css ?? '');
  }

  connectedCallback(): void {
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, this.#sheet];
  }

  disconnectedCallback(): void {
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter((sheet) => sheet !== this.#sheet);
  }
}

const TAG = 'assist-constructed-style';

/** From now on, document.createElement('style') makes a ConstructedStyle. */
export function routeStyleElementsToConstructedSheets(): void {
  customElements.define(TAG, ConstructedStyle);
  const createElement = document.createElement.bind(document) as (tagName: string, options?: ElementCreationOptions) => HTMLElement;
  document.createElement = ((tagName: string, options?: ElementCreationOptions) =>
    createElement(tagName.toLowerCase() === 'style' ? TAG : tagName, options)) as typeof document.createElement;
}
