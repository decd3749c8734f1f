import { escapeHtml, htmlDocument } from '../html';
import type { FieldProblem, PaymentFormField } from '../../sessions/payment-form';
import type { PaymentPageView } from '../../sessions/digital-sessions';
import type { SessionResource } from '../../sessions/session';

/**
 * The hosted payment page (the link of a digital session), rendered here as HTML with no inline
 * script or style: one script (pay-script.ts, listed with its integrity hash in
 * script-inventory.json) and one stylesheet, both served by the service, so the
 * Content-Security-Policy can be `default-src 'self'`. The only digits of a card or bank account
 * the page ever holds are those the customer types into its form; the form posts only to the
 * service, and what it renders afterwards is the masked last 4.
 */
export const PAY_SCRIPT_PATH = '/pay/assets/pay.js';
export const PAY_STYLES_PATH = '/pay/assets/pay.css';
export const PAY_ICON_PATH = '/pay/assets/pay.svg';

/** The page's icon (a card), served here: without one a browser asks for /favicon.ico, which is nobody's. */
export const PAY_ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="1" y="3" width="14" height="10" rx="1.5" fill="#0b0c0c"/><rect x="1" y="5.5" width="14" height="2" fill="#ffdd00"/></svg>';


/** What each field's problem says, in words: the server's and the page script's (it reads them from the inputs' data- attributes). */
export const PROBLEM_TEXT: Record<PaymentFormField, Partial<Record<FieldProblem, string>>> = {
  card_number: { missing: 'Enter your card number', invalid: 'Enter a valid card number', brand: 'This card type is not accepted here: use another card' },
  expiry: { missing: 'Enter the expiry date', invalid: 'Enter the expiry date as MM/YY', expired: 'This card has expired' },
  security_code: {
    missing: 'Enter the security code',
    invalid: 'Enter the security code in digits',
    length: 'Enter the 3-digit security code (4 digits on the front of an American Express card)',
  },
  postal_code: { missing: 'Enter your postal code', invalid: 'Enter a valid postal code' },
  routing_number: { missing: 'Enter the routing number', invalid: 'Enter a valid 9-digit routing number' },
  account_number: { missing: 'Enter the account number', invalid: 'Enter an account number of 4 to 17 digits' },
  account_type: { missing: 'Choose checking or savings' },
};

export interface PayPageContext {
  merchantName: string;
  /** The gateway is a sandbox or certification host: nothing is really charged. */
  testPayment: boolean;
  /** The form's CSRF token (form view only). */
  csrfToken?: string;
  /** The script's Subresource Integrity value (sha384-...). */
  scriptIntegrity: string;
  /** The form shown again because the one sent was out of date (its CSRF token no longer the browser's). */
  staleForm?: boolean;
}

/** The HTTP status of each page: 410 for an expired link, 404 for none. */
export function statusOf(view: PaymentPageView): number {
  return view.kind === 'expired' ? 410 : view.kind === 'not-found' ? 404 : 200;
}

export function payPage(view: PaymentPageView, context: PayPageContext): string {
  switch (view.kind) {
    case 'not-found':
      return layout(context, 'Payment link not found', `<h1>Payment link not found</h1>
<p>Check that you opened the whole link from your message. If it still does not work, contact ${escapeHtml(context.merchantName)} for a new link.</p>`);
    case 'expired':
      return layout(context, 'This payment link has expired', `<h1>This payment link has expired</h1>
<p>No payment was taken. Contact ${escapeHtml(context.merchantName)} if you still need to pay: they can send you a new link.</p>`);
    case 'cancelled':
      return layout(context, 'This payment was cancelled', `<h1>This payment was cancelled</h1>
<p>No payment was taken. Contact ${escapeHtml(context.merchantName)} if you think this is wrong.</p>`);
    case 'processing':
      // No <meta http-equiv="refresh"> (a page that reloads itself on a timer fails WCAG 2.2.1): the
      // script asks for the page every few seconds and shows the result once there is one; without
      // the script, the customer checks again.
      return layout(context, 'Your payment is being processed', `<h1>Your payment is being processed</h1>
<p role="status" id="processing">Please wait: this page will show the result in a moment. Do not pay again.</p>
<p><a href="" id="check-again">Check the result</a></p>`);
    case 'paid':
      return layout(context, paidTitle(view.session), paidBody(view.session, context));
    case 'failed':
      return layout(context, 'Your payment could not be taken', `<h1>Your payment could not be taken</h1>
${declineNotice(view.session)}
<p>This link allows no more attempts. Contact ${escapeHtml(context.merchantName)} to pay another way.</p>`);
    case 'form':
      return layout(context, view.problems ? `Error: ${formTitle(view.session)}` : formTitle(view.session), formBody(view, context));
  }
}

function formTitle(session: SessionResource): string {
  return session.amount ? 'Enter your payment details' : session.payment_method === 'ach' ? 'Enter your bank account details' : 'Enter your card details';
}

function paidTitle(session: SessionResource): string {
  return session.amount ? 'Payment successful' : 'Payment details saved';
}

function layout(context: PayPageContext, title: string, main: string): string {
  return htmlDocument({
    title: `${title} – ${context.merchantName}`,
    icon: PAY_ICON_PATH,
    stylesheet: PAY_STYLES_PATH,
    script: { src: PAY_SCRIPT_PATH, integrity: context.scriptIntegrity },
    body: `<header><p>${escapeHtml(context.merchantName)}</p></header>
<main id="main">
${context.testPayment ? '<p class="test-banner">Test payment: no real money will be taken.</p>' : ''}
${main}
</main>`,
  });
}

function summary(session: SessionResource): string {
  const rows: Array<[string, string]> = [];
  if (session.amount) rows.push(['Amount', `${session.currency} ${session.amount}`]);
  if (session.reference) rows.push(['Reference', session.reference]);
  if (session.description) rows.push(['For', session.description]);
  if (rows.length === 0) return '';
  return `<dl class="summary">${rows.map(([term, value]) => `<dt>${term}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>`;
}

const BRAND_NAMES: Record<string, string> = {
  visa: 'Visa',
  mastercard: 'Mastercard',
  amex: 'American Express',
  discover: 'Discover',
  diners: 'Diners Club',
  jcb: 'JCB',
  unionpay: 'UnionPay',
  maestro: 'Maestro',
  ach: 'Bank account',
};

function paidBody(session: SessionResource, context: PayPageContext): string {
  const result = session.result;
  const code = result?.charge_id ?? result?.token_id ?? null;
  const paidWith = result?.last4 ? `${BRAND_NAMES[result.card_brand ?? ''] ?? 'Card'} ending ${result.last4}` : null;
  return `<section class="outcome approved" aria-labelledby="outcome-title">
<h1 id="outcome-title">${paidTitle(session)}</h1>
<dl class="summary">
${session.amount ? `<dt>Amount</dt><dd>${escapeHtml(`${session.currency} ${session.amount}`)}</dd>` : ''}
${paidWith ? `<dt>Paid with</dt><dd>${escapeHtml(paidWith)}</dd>` : ''}
${code ? `<dt>Confirmation code</dt><dd id="confirmation-code">${escapeHtml(code)}</dd>` : ''}
${session.reference ? `<dt>Reference</dt><dd>${escapeHtml(session.reference)}</dd>` : ''}
</dl>
</section>
<p>You can close this page. ${escapeHtml(context.merchantName)} has been told.</p>`;
}

function declineNotice(session: SessionResource): string {
  const result = session.result;
  if (!result || result.error_code === null) return '';
  const reason = result.error_message ? escapeHtml(result.error_message) : 'The payment was declined';
  return `<div class="notice" role="alert"><h2>Your last payment attempt was declined</h2><p>${reason}</p>${result.error_code ? `<p class="small">Code ${escapeHtml(result.error_code)}</p>` : ''}</div>`;
}

interface InputSpec {
  field: PaymentFormField;
  label: string;
  hint?: string;
  autocomplete: string;
  short?: boolean;
  maxlength: number;
  /** Digits only (a phone shows its number pad); a postal code may have letters (Canada, the UK). */
  letters?: boolean;
}

function formBody(view: Extract<PaymentPageView, { kind: 'form' }>, context: PayPageContext): string {
  const { session, attempt, problems = {} } = view;
  const attempts = session.attempts ?? { made: 0, allowed: 1 };
  const left = attempts.allowed - attempts.made;
  const inputs: InputSpec[] =
    session.payment_method === 'ach'
      ? [
          { field: 'routing_number', label: 'Routing number', hint: '9 digits', autocomplete: 'off', short: true, maxlength: 11 },
          { field: 'account_number', label: 'Account number', hint: '4 to 17 digits', autocomplete: 'off', maxlength: 21 },
        ]
      : [
          { field: 'card_number', label: 'Card number', autocomplete: 'cc-number', maxlength: 23 },
          { field: 'expiry', label: 'Expiry date', hint: 'For example, 08/29', autocomplete: 'cc-exp', short: true, maxlength: 7 },
          ...('security_code' in session.fields
            ? [{ field: 'security_code', label: 'Security code', hint: 'The last 3 digits on the back of the card (4 on the front for American Express)', autocomplete: 'cc-csc', short: true, maxlength: 4 } as InputSpec]
            : []),
          ...('postal_code' in session.fields ? [{ field: 'postal_code', label: 'Postal code', autocomplete: 'postal-code', short: true, maxlength: 16, letters: true } as InputSpec] : []),
        ];
  const fieldsWithProblems = (Object.keys(problems) as PaymentFormField[]).filter((field) => problems[field]);
  const errorSummary =
    fieldsWithProblems.length > 0
      ? `<div class="error-summary" role="alert" tabindex="-1" id="error-summary" aria-labelledby="error-summary-title">
<h2 id="error-summary-title">There is a problem</h2>
<ul>${fieldsWithProblems.map((field) => `<li><a href="#${anchorOf(field)}">${escapeHtml(PROBLEM_TEXT[field][problems[field]!] ?? 'Check this field')}</a></li>`).join('')}</ul>
</div>`
      : `<div class="error-summary" role="alert" tabindex="-1" id="error-summary" aria-labelledby="error-summary-title" hidden>
<h2 id="error-summary-title">There is a problem</h2><ul></ul></div>`;
  const input = (spec: InputSpec) => {
    const problem = problems[spec.field];
    const describedBy = [spec.hint ? `${spec.field}-hint` : '', `${spec.field}-error`, spec.field === 'card_number' ? 'card-brand' : ''].filter(Boolean).join(' ');
    const messages = Object.entries(PROBLEM_TEXT[spec.field])
      .map(([code, text]) => `data-${code}="${escapeHtml(text!)}"`)
      .join(' ');
    return `<div class="form-group">
<label for="${spec.field}">${spec.label}</label>
${spec.hint ? `<p class="hint" id="${spec.field}-hint">${escapeHtml(spec.hint)}</p>` : ''}
<p class="field-error" id="${spec.field}-error"${problem ? '' : ' hidden'}>${problem ? `<span class="visually-hidden">Error:</span> ${escapeHtml(PROBLEM_TEXT[spec.field][problem] ?? '')}` : ''}</p>
<input type="text" id="${spec.field}" name="${spec.field}" ${spec.letters ? 'autocapitalize="characters"' : 'inputmode="numeric"'} autocomplete="${spec.autocomplete}" spellcheck="false" maxlength="${spec.maxlength}"${spec.short ? ' class="short"' : ''} aria-describedby="${describedBy}"${problem ? ' aria-invalid="true"' : ''} ${messages}>
${spec.field === 'card_number' ? '<p class="brand" id="card-brand" aria-live="polite"></p>' : ''}
</div>`;
  };
  const accountType =
    session.payment_method === 'ach'
      ? `<fieldset class="form-group" id="account_type" aria-describedby="account_type-error" ${Object.entries(PROBLEM_TEXT.account_type).map(([code, text]) => `data-${code}="${escapeHtml(text!)}"`).join(' ')}>
<legend>Account type</legend>
<p class="field-error" id="account_type-error"${problems.account_type ? '' : ' hidden'}>${problems.account_type ? `<span class="visually-hidden">Error:</span> ${escapeHtml(PROBLEM_TEXT.account_type.missing!)}` : ''}</p>
<div class="choice"><input type="radio" id="account_type-checking" name="account_type" value="checking"><label for="account_type-checking">Checking</label></div>
<div class="choice"><input type="radio" id="account_type-savings" name="account_type" value="savings"><label for="account_type-savings">Savings</label></div>
</fieldset>`
      : '';
  const action = session.amount ? `Pay ${session.currency} ${session.amount}` : 'Save payment details';
  return `${errorSummary}
<h1>${formTitle(session)}</h1>
${context.staleForm ? '<div class="notice" role="alert"><h2>Your details were not sent</h2><p>This page was out of date: another payment page was opened since. Nothing was charged. Enter your details again.</p></div>' : ''}
${declineNotice(session)}
${summary(session) ? `<section aria-label="Payment">${summary(session)}</section>` : ''}
<form method="post" novalidate id="payment-form" data-kind="${session.payment_method}">
<input type="hidden" name="_csrf" value="${escapeHtml(context.csrfToken ?? '')}">
<input type="hidden" name="attempt" value="${attempt}">
${inputs.map(input).join('\n')}
${accountType}
<button type="submit" id="pay-button">${escapeHtml(action)}</button>
<p class="secure-note">Your details go straight to ${escapeHtml(context.merchantName)}'s payment service over a secure connection. ${left > 1 ? `You have ${left} attempts.` : 'This is your last attempt.'}</p>
</form>`;
}

/** Where an error summary's link takes the customer: the field's input (or the account type's first choice). */
function anchorOf(field: PaymentFormField): string {
  return field === 'account_type' ? 'account_type-checking' : field;
}
