/**
 * Building elements without parsing HTML (strict CSPs, and no markup from data): every text
 * goes in through `textContent`, every attribute through `setAttribute`.
 */

const SVG = 'http://www.w3.org/2000/svg';

/**
 * An element. `props.text` becomes its textContent and `props.on` its click listener; any other
 * prop is an attribute, left out when null, undefined or false. Falsy children are skipped, so
 * `condition && child` reads naturally.
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {Array<Node|string|false|null|undefined|0>} [children]
 * @param {string} [namespace]
 */
export function el(tag, props = {}, children = [], namespace) {
  const element = namespace ? document.createElementNS(namespace, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'text') element.textContent = value;
    else if (name === 'on') element.addEventListener('click', value);
    else if (value != null && value !== false) element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child) element.append(child);
  }
  return element;
}

export const svg = (tag, props, children) => el(tag, props, children, SVG);

/** A banner button; `data-consentry-action` names it for sites' own styling and for tests. */
export const button = (action, text, onClick, className = 'cs-btn', label) =>
  el('button', { type: 'button', class: className, 'data-consentry-action': action, 'aria-label': label, text, on: onClick });

/** The site's theme as `--consentry-*` custom properties on `element` (banner.css reads them). */
export function applyTheme(element, theme) {
  theme = theme || {};
  const colors = theme.colors || {};
  const properties = {
    bg: colors.background,
    text: colors.text,
    accent: colors.accent,
    'accent-text': colors.accent_text,
    radius: theme.radius != null && theme.radius + 'px',
  };
  for (const [name, value] of Object.entries(properties)) {
    if (value) element.style.setProperty('--consentry-' + name, value);
  }
}

const FOCUSABLE = 'a[href],button:not([disabled]),summary';

/**
 * Keep Tab and Shift+Tab inside `dialog` (listening on `container`, its backdrop), and close
 * it on Escape: a modal dialog must not let focus wander to the page behind it (WCAG 2.4.3).
 */
export function trapFocus(container, dialog, onEscape) {
  container.addEventListener('keydown', event => {
    if (event.key === 'Escape') onEscape();
    if (event.key !== 'Tab') return;
    const focusable = dialog.querySelectorAll(FOCUSABLE);
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const active = document.activeElement;
    // The dialog itself holds focus when it opens: Shift+Tab from there wraps too.
    if (event.shiftKey ? active === first || active === dialog : active === last) {
      event.preventDefault();
      (event.shiftKey ? last : first).focus();
    }
  });
}
