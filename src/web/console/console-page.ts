import { escapeHtml, htmlDocument } from '../html';

/**
 * The agent payment console's pages, rendered here as HTML with no inline script or style: one
 * script (console-script.ts) and one stylesheet (console-styles.ts), both served by the service,
 * so the Content-Security-Policy can be `default-src 'self'`. The pages hold no digit of a card
 * or bank account: only what the session resource carries ever reaches them, by the script.
 */
export const CONSOLE_SCRIPT_PATH = '/console/assets/console.js';
export const CONSOLE_STYLES_PATH = '/console/assets/console.css';
export const CONSOLE_ICON_PATH = '/console/assets/console.svg';


/** The fields a session may collect, in the order of the capture panel, with their names in words. */
export const FIELD_NAMES: ReadonlyArray<[string, string]> = [
  ['card_number', 'card number'],
  ['expiry', 'expiry date'],
  ['security_code', 'security code'],
  ['postal_code', 'postal code'],
  ['routing_number', 'routing number'],
  ['account_number', 'account number'],
];

function layout(title: string, main: string): string {
  return htmlDocument({ title, icon: CONSOLE_ICON_PATH, stylesheet: CONSOLE_STYLES_PATH, script: { src: CONSOLE_SCRIPT_PATH }, body: main });
}

export interface SignInPageOptions {
  /** The CSRF token of the sign-in form. */
  csrfToken: string;
  /** A call SID given in the URL, kept through the sign-in. */
  callSid?: string;
  /** Shown in an error summary (a failed or throttled sign-in). */
  error?: string;
  name?: string;
}

export function signInPage(options: SignInPageOptions): string {
  const error = options.error
    ? `<div class="error-summary" role="alert" tabindex="-1" id="error-summary">
        <h2>There is a problem</h2>
        <p>${escapeHtml(options.error)}</p>
      </div>`
    : '';
  return layout(
    'Sign in: payment console',
    `<main id="sign-in" class="narrow">
  <h1>Payment console</h1>
  ${error}
  <form method="post" action="/console/sign-in" novalidate>
    <input type="hidden" name="_csrf" value="${escapeHtml(options.csrfToken)}">
    ${options.callSid ? `<input type="hidden" name="call_sid" value="${escapeHtml(options.callSid)}">` : ''}
    <div class="form-group">
      <label for="name">Name <span class="required" aria-hidden="true">*</span></label>
      <input id="name" name="name" type="text" autocomplete="username" required maxlength="64" spellcheck="false" autocapitalize="none" value="${escapeHtml(options.name ?? '')}">
    </div>
    <div class="form-group">
      <label for="password">Password <span class="required" aria-hidden="true">*</span></label>
      <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
    </div>
    <button type="submit">Sign in</button>
  </form>
</main>`,
  );
}

export interface ConsolePageOptions {
  mode: 'signed-in' | 'link';
  /** Signed-in mode: the agent's name, and the CSRF token every state change carries. */
  user?: string;
  csrfToken?: string;
  /** Payment connectors the start form offers (Twilio's, for agent assist). */
  connectors: string[];
  /** Gateway connectors with configured credentials: what a digital (pay-by-link) payment may charge through; none, no Digital. */
  digitalConnectors?: string[];
  /** Origins that may frame the page and send it postMessage (CONSOLE_FRAME_ANCESTORS). */
  frameAncestors: string[];
}

const required = '<span class="required" aria-hidden="true">*</span><span class="visually-hidden"> (required)</span>';

function textField(id: string, label: string, options: { hint?: string; mandatory?: boolean; attributes?: string; value?: string } = {}): string {
  const hint = options.hint ? `<p class="hint" id="${id}-hint">${escapeHtml(options.hint)}</p>` : '';
  const describedBy = [options.hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' ');
  return `<div class="form-group" id="${id}-group">
        <label for="${id}">${escapeHtml(label)}${options.mandatory ? ` ${required}` : ''}</label>
        ${hint}
        <p class="field-error" id="${id}-error" hidden></p>
        <input id="${id}" name="${id}" type="text" aria-describedby="${describedBy}" ${options.mandatory ? 'aria-required="true"' : ''} ${options.attributes ?? ''} value="${escapeHtml(options.value ?? '')}">
      </div>`;
}

function startForm(connectors: string[], digitalConnectors: string[]): string {
  const options = (names: string[]) => names.map((name) => `<option value="${escapeHtml(name)}">${escapeHtml(name)}</option>`).join('');
  const digital = digitalConnectors.length > 0;
  return `<section id="start" aria-labelledby="start-title">
    <h2 id="start-title" tabindex="-1">Start a payment</h2>
    <p class="hint">Fields marked <span class="required" aria-hidden="true">*</span><span class="visually-hidden">with an asterisk</span> are required.</p>
    <div class="error-summary" id="start-errors" role="alert" tabindex="-1" hidden>
      <h3>There is a problem</h3>
      <ul id="start-error-list"></ul>
    </div>
    <form id="start-form" novalidate>
      <fieldset class="form-group">
        <legend>Payment type ${required}</legend>
        <div class="choice"><input type="radio" id="type-agent" name="type" value="agent" checked aria-describedby="type-agent-hint"><label for="type-agent">Agent assist</label></div>
        <p class="hint choice-hint" id="type-agent-hint">The caller types on the phone's keypad while you watch.</p>
        <div class="choice"><input type="radio" id="type-digital" name="type" value="digital" aria-describedby="type-digital-hint"${digital ? '' : ' disabled'}><label for="type-digital">Digital (pay by link)</label></div>
        <p class="hint choice-hint" id="type-digital-hint">${
          digital
            ? 'The customer gets a payment link by text message and pays on their own phone.'
            : 'No payment gateway is set up for payment links yet: ask your administrator.'
        }</p>
      </fieldset>
      <div data-for="agent">
      ${textField('call_sid', 'Call SID', { mandatory: true, hint: 'The call the caller is on: CA followed by 32 letters and digits.', attributes: 'autocomplete="off" spellcheck="false" autocapitalize="none" maxlength="34"' })}
      </div>
      <div class="form-group" data-for="agent">
        <label for="connector">Configuration ${required}</label>
        <p class="hint" id="connector-hint">The Twilio payment connector that takes the payment.</p>
        <select id="connector" name="connector" aria-describedby="connector-hint">${options(connectors)}</select>
      </div>
      <div class="form-group" data-for="digital" hidden>
        <label for="gateway">Payment gateway ${required}</label>
        <p class="hint" id="gateway-hint">The gateway the payment page charges through.</p>
        <select id="gateway" name="gateway" aria-describedby="gateway-hint">${options(digitalConnectors)}</select>
      </div>
      <div class="form-group" id="customer_phone-group">
        <label for="customer_phone"><span data-for="agent">Customer phone</span><span data-for="digital" hidden>Customer's mobile phone number ${required}</span></label>
        <p class="hint" id="customer_phone-hint"><span data-for="digital" hidden>The payment link is texted to this number. </span>In international form, like +14155550100.</p>
        <p class="field-error" id="customer_phone-error" hidden></p>
        <input id="customer_phone" name="customer_phone" type="text" aria-describedby="customer_phone-hint customer_phone-error" autocomplete="off" inputmode="tel" maxlength="16" value="">
      </div>
      <fieldset class="form-group">
        <legend>Method ${required}</legend>
        <div class="choice"><input type="radio" id="method-card" name="payment_method" value="card" checked><label for="method-card">Card</label></div>
        <div class="choice"><input type="radio" id="method-ach" name="payment_method" value="ach"><label for="method-ach">Bank account</label></div>
      </fieldset>
      ${textField('amount', 'Amount', { hint: 'Like 10.00. Leave it blank to save the card without charging it.', attributes: 'inputmode="decimal" autocomplete="off" maxlength="12"' })}
      ${textField('currency', 'Currency', { mandatory: true, hint: 'A 3-letter code, like USD.', attributes: 'autocomplete="off" maxlength="3" spellcheck="false"', value: 'USD' })}
      ${textField('reference', 'Reference', { hint: 'Your order or account reference (never a card number).', attributes: 'autocomplete="off" maxlength="255"' })}
      <fieldset class="form-group">
        <legend>Customer</legend>
        ${textField('customer_name', 'Customer name', { attributes: 'autocomplete="off" maxlength="100"' })}
        ${textField('customer_postal_code', 'Customer postal code', { attributes: 'autocomplete="off" maxlength="16"' })}
        ${textField('customer_address', 'Customer address', { attributes: 'autocomplete="off" maxlength="200"' })}
      </fieldset>
      <button type="submit" id="start-button">Start payment</button>
    </form>
  </section>`;
}

function fieldRow(key: string, name: string): string {
  const hint =
    key === 'security_code'
      ? `<p class="hint" id="${key}-hint" hidden>You can ask for the security code once the card number is in: its length depends on the card.</p>`
      : '';
  return `<li class="field" id="field-${key}" data-field="${key}" data-state="empty" hidden>
        <div class="field-head">
          <span class="field-name">${escapeHtml(name[0]!.toUpperCase() + name.slice(1))}</span>
          <span class="field-state" id="${key}-state">Not asked yet</span>
        </div>
        <div class="dots" id="${key}-dots" aria-hidden="true"></div>
        ${hint}
        <div class="field-actions">
          <button type="button" class="ask" data-action="ask" data-field="${key}"${key === 'security_code' ? ` aria-describedby="${key}-hint"` : ''}>Ask for ${escapeHtml(name)}</button>
          <button type="button" class="clear secondary" data-action="clear" data-field="${key}" hidden>Clear ${escapeHtml(name)}</button>
        </div>
      </li>`;
}

/**
 * The payment panel, for both kinds of session the console drives: agent assist (the agent asks
 * for each field, the caller types on the keypad) and digital (the customer types on their own
 * payment page: no "Ask for" buttons, but the link message's delivery, the customer's presence on
 * the page and the attempts on the link). Elements marked data-for show for one kind only.
 */
function paymentPanel(): string {
  return `<section id="payment" aria-labelledby="payment-title" hidden>
    <h2 id="payment-title" tabindex="-1">Take the payment</h2>
    <dl class="summary" id="summary">
      <div><dt>Amount</dt><dd id="summary-amount"></dd></div>
      <div><dt>Method</dt><dd id="summary-method"></dd></div>
      <div><dt>Reference</dt><dd id="summary-reference"></dd></div>
      <div data-for="agent"><dt>Call</dt><dd id="summary-call" class="sid"></dd></div>
      <div data-for="digital" hidden><dt>Link texted to</dt><dd id="summary-phone"></dd></div>
    </dl>
    <div class="status-bar" data-for="agent">
      <p id="secure" class="secure" data-secure="false"><span class="secure-dot" aria-hidden="true"></span><span id="secure-text">Not secure yet</span></p>
      <p id="countdown" class="countdown">Time left: <span id="countdown-time"></span></p>
    </div>
    <div id="digital-status" data-for="digital" hidden>
      <p id="presence" class="presence" data-present="false"><span class="presence-dot" aria-hidden="true"></span><span id="presence-text">Not on the payment page</span></p>
      <dl class="summary">
        <div><dt>Payment</dt><dd id="digital-state"></dd></div>
        <div><dt>Text message</dt><dd id="sms-state"></dd><dd id="sms-code" class="small" hidden></dd></div>
        <div><dt>Attempts</dt><dd id="attempts"></dd></div>
        <div><dt>Link valid until</dt><dd id="link-expiry"></dd></div>
      </dl>
      <div id="attempt-notice" class="notice" hidden>
        <h3 id="attempt-title"></h3>
        <p id="attempt-detail"></p>
        <p id="attempt-code" class="small"></p>
      </div>
    </div>
    <ol id="fields" class="fields">
      ${FIELD_NAMES.map(([key, name]) => fieldRow(key, name)).join('\n      ')}
    </ol>
    <p class="hint" id="process-hint"></p>
    <div class="actions" id="actions">
      <button type="button" id="process" aria-describedby="process-hint" data-for="agent" disabled>Process payment</button>
      <button type="button" id="send-again" class="secondary" data-for="digital" hidden>Send link again</button>
      <button type="button" id="cancel" class="warning">Cancel payment</button>
    </div>
    <div id="result" class="result" hidden>
      <h3 id="result-title" tabindex="-1"></h3>
      <p id="result-detail"></p>
      <p id="result-code" class="small"></p>
      <p id="result-next" class="hint"></p>
      <button type="button" id="new-payment" hidden>New payment</button>
    </div>
  </section>`;
}

export function consolePage(options: ConsolePageOptions): string {
  const signedIn = options.mode === 'signed-in';
  const header = signedIn
    ? `<header class="top">
    <h1>Payment console</h1>
    <form method="post" action="/console/sign-out" class="sign-out">
      <span class="who">Signed in as ${escapeHtml(options.user ?? '')}</span>
      <input type="hidden" name="_csrf" value="${escapeHtml(options.csrfToken ?? '')}">
      <button type="submit" class="secondary">Sign out</button>
    </form>
  </header>`
    : `<header class="top"><h1>Payment console</h1></header>
  <p id="link-status" class="hint">Opening the payment&hellip;</p>`;
  return layout(
    'Payment console',
    `<main id="console" data-mode="${options.mode}" data-csrf="${escapeHtml(options.csrfToken ?? '')}" data-frame-ancestors="${escapeHtml(options.frameAncestors.join(' '))}">
  ${header}
  <div id="announce" class="visually-hidden" role="status" aria-live="polite"></div>
  <div id="problem" class="problem" role="alert" hidden></div>
  ${signedIn ? startForm(options.connectors, options.digitalConnectors ?? []) : ''}
  ${paymentPanel()}
</main>`,
  );
}

/** The page a console link shows before its script runs, and whenever the page cannot be shown. */
export function consoleErrorPage(title: string, message: string): string {
  return layout(title, `<main class="narrow"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></main>`);
}

/** The console's icon (a card in a shield), served here so that the browser asks nothing of anyone else. */
export const CONSOLE_ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M8 1l6 2.5v4C14 11 11.5 14 8 15 4.5 14 2 11 2 7.5v-4z" fill="#00703c"/><rect x="4.5" y="6" width="7" height="4.5" rx="0.8" fill="#fff"/></svg>';
