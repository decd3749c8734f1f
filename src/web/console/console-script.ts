/**
 * The console's one script: plain DOM (text set with textContent only), no framework, no build
 * step. It drives the session through /console/api, follows it by Server-Sent Events opened with a
 * single-use ticket (reopened with a new ticket and the last version seen whenever it drops), and
 * shows only what the session resource carries. In a console opened from a console_url it reads
 * the code from the URL's fragment, removes it from the address bar and history, and keeps the
 * console token it is exchanged for in this closure only (no storage, no cookie).
 *
 * Two kinds of session: agent assist (the agent asks for each field; the caller types on the
 * keypad) and digital, pay by link (the customer types on their own payment page: the console
 * shows the link message's delivery, the customer's presence, a dot per character typed, the
 * attempts and the result, and never the link itself).
 *
 * Kept as a string (like the simulator's phone page) so that `npm run build` ships it in dist/
 * with nothing to copy; test/web/console-assets.test.ts parses it.
 */
export const CONSOLE_SCRIPT = String.raw`'use strict';
(function () {
  var root = document.getElementById('console');
  if (!root) return;
  var mode = root.getAttribute('data-mode');
  var csrf = root.getAttribute('data-csrf') || '';
  var ancestors = (root.getAttribute('data-frame-ancestors') || '').split(' ').filter(function (origin) { return /^https?:/.test(origin); });
  var FIELDS = ['card_number', 'expiry', 'security_code', 'postal_code', 'routing_number', 'account_number'];
  var NAMES = { card_number: 'card number', expiry: 'expiry date', security_code: 'security code', postal_code: 'postal code', routing_number: 'routing number', account_number: 'account number' };
  var INPUT_ERRORS = {
    'invalid-card-number': 'That card number is not valid',
    'invalid-card-type': 'That type of card is not accepted',
    'invalid-date': 'That expiry date is not valid',
    'invalid-security-code': 'That security code is not valid',
    'invalid-postal-code': 'That postal code is not valid',
    'invalid-bank-routing-number': 'That routing number is not valid',
    'invalid-bank-account-number': 'That account number is not valid',
    'input-matching-failed': 'The two entries did not match',
    'input-timeout': 'The caller did not type anything in time',
    'internal-error': 'Twilio could not read that entry'
  };
  var TWILIO_REASONS = {
    '64003': 'The amount is not one the gateway accepts',
    '64005': 'This configuration cannot save cards',
    '64007': 'This configuration cannot take charges',
    '64008': 'The bank declined the payment',
    '64009': 'The payment configuration is no longer authorised',
    '64010': 'The gateway refused to save the card',
    '64011': 'The gateway does not take this currency',
    '64012': 'The card was refused',
    '64013': 'The gateway does not take this payment method',
    '64021': 'Twilio could not start a secure session on this call',
    '64022': 'Only test cards work with this configuration',
    '64023': 'Only test bank accounts work with this configuration'
  };
  var ACTIVE = { created: true, capturing: true, processing: true };
  var SMS_WORDS = {
    queued: 'Queued: waiting to be sent',
    accepted: 'Accepted: waiting to be sent',
    scheduled: 'Queued: waiting to be sent',
    sending: 'Sending',
    sent: 'Sent: on its way to the phone',
    delivered: "Delivered to the customer's phone",
    undelivered: 'Not delivered: the phone network could not deliver it',
    failed: 'Not sent: the message could not be sent',
    logged: 'Not texted: written to the service log (test mode)'
  };
  var DIGITAL_STATES = {
    created: 'Link sent: waiting for the customer to open it',
    capturing: 'Link opened: waiting for the customer to pay',
    processing: 'The customer sent the payment: processing',
    succeeded: 'Paid',
    failed: 'Declined',
    cancelled: 'Cancelled',
    expired: 'Link expired'
  };

  var bearer = null;
  var session = null;
  var version = 0;
  var source = null;
  var live = false;
  var retryDelay = 1000;
  var retryTimer = null;
  var clock = null;
  var warnedLow = false;
  var lastStates = {};
  var lastSessionState = null;
  var starting = false;
  var startKey = null;
  var lastPresent = null;
  /** The event stream of this session was open once: a closed one is then a drop, not the start. */
  var wasLive = false;
  var lastSms = null;
  var lastNotice = '';

  function byId(id) { return document.getElementById(id); }
  var announcing = [];
  function announce(text) {
    // What is said at once is said together: a later one would cut the first off.
    var region = byId('announce');
    if (announcing.length === 0) {
      region.textContent = '';
      window.setTimeout(function () { region.textContent = announcing.join(' '); announcing = []; }, 50);
    }
    if (announcing.indexOf(text) < 0) announcing.push(text);
  }
  function isDigital() { return !!session && session.type === 'digital'; }
  /** Shows the elements of one kind of payment (data-for="agent" or "digital") within scope, hides the other's. */
  function showFor(scope, digital) {
    Array.prototype.forEach.call(scope.querySelectorAll('[data-for]'), function (element) {
      element.hidden = (element.getAttribute('data-for') === 'digital') !== digital;
    });
  }
  function showProblem(text) {
    var problem = byId('problem');
    problem.textContent = text || '';
    problem.hidden = !text;
  }
  function capitalised(text) { return text.charAt(0).toUpperCase() + text.slice(1); }
  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (byte) { return ('0' + byte.toString(16)).slice(-2); }).join('');
  }

  function api(method, path, body, headers) {
    var sent = { 'Accept': 'application/json' };
    if (body !== undefined) sent['Content-Type'] = 'application/json';
    if (bearer) sent['Authorization'] = 'Bearer ' + bearer;
    else if (method !== 'GET') sent['X-CSRF-Token'] = csrf;
    Object.keys(headers || {}).forEach(function (name) { sent[name] = headers[name]; });
    return fetch('/console/api' + path, { method: method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) {
        return response.json().then(function (json) { return { ok: response.ok, status: response.status, body: json }; }, function () { return { ok: response.ok, status: response.status, body: {} }; });
      }, function () {
        return { ok: false, status: 0, body: { error: { code: 'NETWORK', message: 'The console cannot reach the service. Check the connection and try again.' } } };
      });
  }
  function failure(answer) {
    if (answer.status === 401 && mode === 'link') return 'Access to this payment has ended. Ask your desktop for a new console link.';
    if (answer.status === 401) return 'You are signed out. Reload the page to sign in again.';
    return (answer.body && answer.body.error && answer.body.error.message) || 'Something went wrong. Try again.';
  }

  // ---- The session, as the service last told it
  function accept(answer) {
    if (!answer.ok) { showProblem(failure(answer)); return false; }
    showProblem('');
    take(answer.body.session, answer.body.version);
    return true;
  }
  function take(next, nextVersion) {
    if (session && next.id === session.id && nextVersion <= version) return;
    var first = !session || session.id !== next.id;
    session = next;
    version = nextVersion;
    if (first) { lastStates = {}; lastSessionState = null; warnedLow = false; lastPresent = null; lastSms = null; lastNotice = ''; wasLive = false; }
    render();
    tellDesktop();
  }

  function tellDesktop() {
    if (window.parent === window || ancestors.length === 0) return;
    var news = { type: 'paybridge:session', id: session.id, state: session.state };
    ancestors.forEach(function (origin) { window.parent.postMessage(news, origin); });
  }

  // ---- Rendering
  function fieldStateText(key, field) {
    if (isDigital()) {
      // Only counts reach the console (never a character): the page's heartbeat says how many.
      if (field.length > 0) return 'Typed: ' + field.length + (field.length === 1 ? ' character' : ' characters');
      return 'Nothing typed yet';
    }
    if (field.state === 'empty') return 'Not asked yet';
    if (field.state === 'capturing') return field.length > 0 ? 'The caller is typing: ' + field.length + (field.length === 1 ? ' digit' : ' digits') : 'Asked: waiting for the caller';
    if (field.state === 'captured') return 'Captured: ' + (field.display || '');
    return INPUT_ERRORS[field.error] || 'That entry was not accepted';
  }
  function typedCount(field) { return field.state === 'capturing' ? Math.min(field.length, 40) : 0; }
  function dotsOf(field) { return new Array(typedCount(field) + 1).join('\u2022'); }

  function render() {
    if (!session) return;
    byId('payment').hidden = false;
    var digital = isDigital();
    showFor(byId('payment'), digital);
    byId('payment-title').textContent = digital ? 'Payment by link' : 'Take the payment';
    var capturing = session.state === 'capturing';
    byId('summary-amount').textContent = session.amount ? session.amount + ' ' + session.currency : 'None: save the card';
    byId('summary-method').textContent = session.payment_method === 'ach' ? 'Bank account' : 'Card';
    byId('summary-reference').textContent = session.reference || 'None';
    byId('summary-call').textContent = session.call_sid || '';
    byId('summary-phone').textContent = (session.customer && session.customer.phone) || '';
    var cardIn = session.fields.card_number && session.fields.card_number.state === 'captured';
    FIELDS.forEach(function (key) {
      var row = byId('field-' + key);
      var field = session.fields[key];
      row.hidden = !field;
      if (!field) return;
      var before = lastStates[key];
      row.setAttribute('data-state', field.state);
      row.setAttribute('data-active', String(capturing && field.state === 'capturing'));
      byId(key + '-state').textContent = fieldStateText(key, field);
      var dots = byId(key + '-dots');
      dots.textContent = dotsOf(field);
      dots.setAttribute('data-length', String(typedCount(field)));
      var ask = row.querySelector('[data-action=ask]');
      var clear = row.querySelector('[data-action=clear]');
      var waitsForCard = key === 'security_code' && !cardIn;
      var over = !ACTIVE[session.state];
      // On a digital session the customer types on their own page: there is nothing to ask for.
      ask.hidden = over || digital || field.state !== 'empty';
      clear.hidden = over || digital || field.state === 'empty';
      ask.disabled = !capturing || waitsForCard;
      clear.disabled = !capturing || waitsForCard;
      var hint = byId(key + '-hint');
      if (hint) hint.hidden = digital || !(waitsForCard && capturing);
      if (!digital && before !== undefined && before !== field.state) {
        if (field.state === 'captured') announce(capitalised(NAMES[key]) + ' captured');
        else if (field.state === 'invalid') announce(fieldStateText(key, field) + '. Clear it to ask again.');
        else if (field.state === 'capturing') announce('Asked the caller for the ' + NAMES[key]);
      }
      lastStates[key] = field.state;
    });
    var ready = capturing && session.required.length === 0;
    var open = session.state === 'created' || session.state === 'capturing';
    byId('process').disabled = !ready;
    byId('cancel').disabled = !open;
    byId('send-again').disabled = !open;
    if (digital) byId('process-hint').textContent = open ? 'The customer types their details on their own payment page: you see only how many characters, as dots.' : '';
    else byId('process-hint').textContent = ready ? 'Everything is in: process the payment when the caller is ready.' : capturing ? 'Process payment is available once every field is captured.' : '';
    if (digital) renderDigital();
    else renderSecure();
    renderClock();
    if (session.state !== lastSessionState) {
      var previous = lastSessionState;
      lastSessionState = session.state;
      if (session.state === 'processing') announce(digital ? 'The customer sent the payment: processing' : 'Processing the payment');
      if (ACTIVE[session.state]) { byId('result').hidden = true; byId('actions').hidden = false; }
      else showResult(previous !== null);
    }
  }

  function renderSecure() {
    var secure = session.state === 'capturing' && live;
    var text;
    if (secure) text = "Secure: the caller's keypad is captured and the tones are masked";
    else if (session.state === 'created') text = 'Not secure yet: waiting for Twilio to secure the call';
    else if (session.state === 'capturing') text = 'Not secure: the live connection dropped, reconnecting. Do not ask for details.';
    else if (session.state === 'processing') text = 'The card details are with the payment gateway';
    else text = 'The secure session has ended';
    var badge = byId('secure');
    var changed = badge.getAttribute('data-secure') !== String(secure);
    badge.setAttribute('data-secure', String(secure));
    byId('secure-text').textContent = text;
    if (changed && session.state === 'capturing') announce(text);
  }

  /** A digital session: its state, the link message, the customer's presence, the attempts, a decline with attempts left. */
  function renderDigital() {
    var active = !!ACTIVE[session.state];
    var present = active && live && session.customer_present === true;
    var text;
    if (present) text = 'Customer is on the payment page';
    else if (!active) text = 'Not on the payment page: the payment has ended';
    else if (!live) text = wasLive ? 'Live updates paused: reconnecting. The customer may be on the page.' : 'Connecting for live updates';
    else if (session.state === 'created') text = 'Not on the payment page: the customer has not opened the link yet';
    else text = 'Not on the payment page right now';
    var badge = byId('presence');
    badge.setAttribute('data-present', String(present));
    byId('presence-text').textContent = text;
    if (lastPresent !== null && lastPresent !== present && active && live) announce(present ? 'The customer is on the payment page' : 'The customer left the payment page');
    lastPresent = present;

    byId('digital-state').textContent = DIGITAL_STATES[session.state] || session.state;
    var sms = session.sms;
    var words = !sms ? 'Not sent' : (SMS_WORDS[sms.state] || 'Status: ' + sms.state);
    if (sms && sms.sends > 1) words += ' (sent ' + sms.sends + ' times)';
    byId('sms-state').textContent = words;
    var code = byId('sms-code');
    code.textContent = sms && sms.error_code ? 'Error code ' + sms.error_code : '';
    code.hidden = !(sms && sms.error_code);
    var smsNews = sms ? sms.state + ':' + sms.sends : '';
    if (lastSms !== null && smsNews !== lastSms && sms) announce('Text message: ' + (SMS_WORDS[sms.state] || sms.state));
    lastSms = smsNews;

    var attempts = session.attempts || { made: 0, allowed: 1 };
    byId('attempts').textContent = attempts.made + ' of ' + attempts.allowed;
    byId('link-expiry').textContent = new Date(session.expires_at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

    // A declined attempt with attempts left: the link stays open for the next one.
    var result = session.result;
    var declined = active && session.state !== 'processing' && result && (result.error_code || result.error_message);
    var notice = byId('attempt-notice');
    notice.hidden = !declined;
    if (declined) {
      var left = attempts.allowed - attempts.made;
      byId('attempt-title').textContent = 'Attempt ' + attempts.made + ' was declined';
      byId('attempt-detail').textContent = (result.error_message ? 'Reason: ' + result.error_message + '. ' : '') + 'The customer can try again on the same link: ' + left + (left === 1 ? ' attempt left.' : ' attempts left.');
      byId('attempt-code').textContent = result.error_code ? 'Gateway code ' + result.error_code : '';
      var news = attempts.made + ':' + result.error_code;
      if (news !== lastNotice) { lastNotice = news; announce(byId('attempt-title').textContent + '. ' + byId('attempt-detail').textContent); }
    }
  }

  function renderClock() {
    var box = byId('countdown');
    if (!session || isDigital() || !(session.state === 'created' || session.state === 'capturing')) { box.hidden = true; return; }
    box.hidden = false;
    var left = Math.max(0, Math.round((Date.parse(session.expires_at) - Date.now()) / 1000));
    var minutes = Math.floor(left / 60);
    var seconds = left % 60;
    byId('countdown-time').textContent = minutes + ':' + (seconds < 10 ? '0' : '') + seconds;
    box.className = left <= 60 ? 'countdown low' : 'countdown';
    if (left <= 60 && !warnedLow) { warnedLow = true; announce('One minute left before the payment times out'); }
  }

  function showResult(focus) {
    stopStream();
    byId('actions').hidden = true;
    var result = session.result || {};
    var box = byId('result');
    var title = byId('result-title');
    var detail = byId('result-detail');
    var code = byId('result-code');
    var outcome = 'ended';
    code.textContent = '';
    var digital = isDigital();
    if (session.state === 'succeeded') {
      outcome = 'approved';
      if (digital && result.last4) code.textContent = 'Paid with ' + (result.card_brand === 'ach' ? 'bank account' : 'card') + ' ending ' + result.last4;
      if (session.amount) {
        title.textContent = 'Payment approved';
        detail.textContent = 'Confirmation code: ' + (result.charge_id || 'not given');
      } else {
        title.textContent = session.payment_method === 'ach' ? 'Bank account saved' : 'Card saved';
        detail.textContent = 'Nothing was charged. Your system has what it needs to charge it later.';
      }
    } else if (session.state === 'failed') {
      outcome = 'declined';
      title.textContent = session.amount ? 'Payment declined' : 'Not saved';
      detail.textContent = TWILIO_REASONS[result.twilio_error_code] || (result.error_code === 'NO_PAYMENT' ? 'The payment never reached the gateway: nothing was charged.' : digital && result.error_message ? 'Reason: ' + result.error_message + '.' : 'The payment did not go through.');
      if (digital && session.attempts && session.attempts.made > 1) detail.textContent += ' All ' + session.attempts.made + ' attempts on the link were used.';
      var codes = [];
      if (result.error_code) codes.push('Gateway code ' + result.error_code);
      if (result.error_message && !digital) codes.push(result.error_message);
      if (result.twilio_error_code) codes.push('Twilio error ' + result.twilio_error_code);
      code.textContent = codes.join(' \u00b7 ');
    } else if (session.state === 'cancelled') {
      title.textContent = 'Payment cancelled';
      detail.textContent = digital ? 'Nothing was charged. The link no longer works.' : result.error_code === 'caller-hung-up' ? 'The caller hung up. Nothing was charged.' : result.error_code === 'caller-interrupted-with-star' ? 'The caller pressed star to stop. Nothing was charged.' : 'Nothing was charged.';
    } else if (digital) {
      title.textContent = 'Payment link expired';
      detail.textContent = 'The customer did not pay before the link expired. Nothing was charged.';
    } else {
      title.textContent = 'Payment timed out';
      detail.textContent = 'The payment was not finished in time. Nothing was charged.';
    }
    box.setAttribute('data-outcome', outcome);
    box.hidden = false;
    var again = byId('new-payment');
    again.hidden = mode !== 'signed-in';
    byId('result-next').textContent = mode !== 'signed-in' ? 'To take another payment, start it from your desktop.' : digital ? 'To take another payment, choose New payment.' : 'To take another payment on this call, choose New payment.';
    announce(title.textContent + '. ' + detail.textContent);
    if (focus) title.focus();
  }

  // ---- The event stream: a new single-use ticket each time, resumed from the last version seen
  function stopStream() {
    if (retryTimer) { window.clearTimeout(retryTimer); retryTimer = null; }
    if (source) { source.close(); source = null; }
    live = false;
  }
  function openStream() {
    if (!session || !ACTIVE[session.state] || source || retryTimer) return;
    var id = session.id;
    api('POST', '/sessions/' + encodeURIComponent(id) + '/stream-ticket', {}).then(function (answer) {
      if (!session || session.id !== id || !ACTIVE[session.state]) return;
      if (!answer.ok) { if (answer.status === 401) { showProblem(failure(answer)); return; } retryLater(); return; }
      var url = '/console/api/sessions/' + encodeURIComponent(id) + '/events?ticket=' + encodeURIComponent(answer.body.ticket) + (version ? '&last_event_id=' + version : '');
      var stream = new EventSource(url);
      source = stream;
      stream.addEventListener('open', function () {
        if (source !== stream) return;
        live = true;
        wasLive = true;
        retryDelay = 1000;
        render();
      });
      stream.addEventListener('session', function (event) {
        if (source !== stream) return;
        take(JSON.parse(event.data), Number(event.lastEventId) || 0);
      });
      stream.addEventListener('error', function () {
        // A ticket opens one stream: the browser's own reconnection would be refused.
        stream.close();
        if (source !== stream) return;
        source = null;
        live = false;
        render();
        retryLater();
      });
    });
  }
  function retryLater() {
    if (retryTimer || !session || !ACTIVE[session.state]) return;
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      // What changed while the stream was down comes with the first event of the new one.
      openStream();
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  }

  function follow() {
    openStream();
    if (!clock) clock = window.setInterval(function () { if (session) renderClock(); }, 1000);
  }

  // ---- Agent actions
  function act(path, body, button) {
    if (!session) return;
    if (button) button.disabled = true;
    api('POST', '/sessions/' + encodeURIComponent(session.id) + path, body).then(function (answer) {
      accept(answer);
      render();
    });
  }
  byId('fields').addEventListener('click', function (event) {
    var button = event.target.closest('button[data-action]');
    if (!button || button.disabled) return;
    act('/capture', { field: button.getAttribute('data-field') }, button);
  });
  byId('process').addEventListener('click', function () { act('/complete', {}, byId('process')); });
  byId('send-again').addEventListener('click', function () {
    if (!session) return;
    var button = byId('send-again');
    button.disabled = true;
    api('POST', '/sessions/' + encodeURIComponent(session.id) + '/send-link', {}).then(function (answer) {
      if (accept(answer)) announce('The payment link was texted again. The earlier link still works.');
      render();
    });
  });
  byId('cancel').addEventListener('click', function () { act('/cancel', {}, byId('cancel')); });

  // ---- The start form (signed-in consoles)
  var form = byId('start-form');
  // [field, check, message, required: always, or for one kind of payment only]
  var CHECKS = [
    ['call_sid', function (v) { return /^CA[0-9a-fA-F]{32}$/.test(v); }, 'Enter the call SID: CA followed by 32 letters and digits', 'agent'],
    ['customer_phone', function (v) { return /^\+[1-9][0-9]{6,14}$/.test(v); }, 'Enter the phone number in international form, like +14155550100', 'digital'],
    ['amount', function (v) { return /^(0*[1-9][0-9]{0,6}(\.[0-9]{1,2})?|0*\.(0[1-9]|[1-9][0-9]?))$/.test(v); }, 'Enter an amount like 10.00 (above 0, at most 2 decimals), or leave it blank to save the card', false],
    ['currency', function (v) { return /^[A-Za-z]{3}$/.test(v); }, 'Enter a 3-letter currency code, like USD', true],
    ['reference', printable(255), 'The reference must be at most 255 characters, with no card number in it', false],
    ['customer_name', printable(100), 'The customer name must be at most 100 characters', false],
    ['customer_postal_code', function (v) { return /^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$/.test(v); }, 'Enter the postal code in letters and digits (at most 16)', false],
    ['customer_address', printable(200), 'The address must be at most 200 characters, with no card number in it', false]
  ];
  function printable(max) {
    return function (v) { return v.length <= max && !/[\u0000-\u001f\u007f]/.test(v) && !/[0-9]{12}/.test(v); };
  }
  function value(id) { var input = byId(id); return input ? input.value.trim() : ''; }
  function digitalChosen() { var choice = byId('type-digital'); return !!choice && choice.checked && !choice.disabled; }
  /** The form for the kind of payment chosen: a digital payment texts a link to the customer's mobile, no call needed. */
  function showType() {
    var digital = digitalChosen();
    showFor(byId('start'), digital);
    byId('start-button').textContent = digital ? 'Send link' : 'Start payment';
    byId('customer_phone').setAttribute('aria-required', String(digital));
    ['call_sid', 'customer_phone'].forEach(function (id) { markField(id, ''); });
  }
  function markField(id, message) {
    var input = byId(id);
    var error = byId(id + '-error');
    if (!input || !error) return;
    error.textContent = message ? 'Error: ' + message : '';
    error.hidden = !message;
    if (message) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
  }
  function showErrors(errors, quiet) {
    var box = byId('start-errors');
    var list = byId('start-error-list');
    list.textContent = '';
    errors.forEach(function (error) {
      var item = document.createElement('li');
      if (error.field) {
        var link = document.createElement('a');
        link.href = '#' + error.field;
        link.textContent = error.message;
        link.addEventListener('click', function (event) { event.preventDefault(); byId(error.field).focus(); });
        item.appendChild(link);
      } else {
        item.textContent = error.message;
      }
      list.appendChild(item);
    });
    box.hidden = errors.length === 0;
    if (errors.length && !quiet) box.focus();
  }
  function validate() {
    var errors = [];
    var kind = digitalChosen() ? 'digital' : 'agent';
    CHECKS.forEach(function (check) {
      var required = check[3];
      // The call SID is hidden for a digital payment, and not sent.
      if (check[0] === 'call_sid' && kind === 'digital') { markField(check[0], ''); return; }
      var v = value(check[0]);
      var wrong = v === '' ? required === true || required === kind : !check[1](v);
      markField(check[0], wrong ? check[2] : '');
      if (wrong) errors.push({ field: check[0], message: check[2] });
    });
    return errors;
  }
  function startBody() {
    var digital = digitalChosen();
    var body = { type: digital ? 'digital' : 'agent', payment_method: byId('method-ach').checked ? 'ach' : 'card', currency: value('currency').toUpperCase() };
    // A digital session names no call: its link outlives the call, and the call stays free for another payment.
    if (digital) body.connector = byId('gateway').value;
    else { body.call_sid = value('call_sid'); body.connector = byId('connector').value; }
    if (value('amount')) body.amount = value('amount');
    if (value('reference')) body.reference = value('reference');
    var customer = {};
    [['customer_name', 'name'], ['customer_postal_code', 'postal_code'], ['customer_address', 'address'], ['customer_phone', 'phone']].forEach(function (pair) {
      if (value(pair[0])) customer[pair[1]] = value(pair[0]);
    });
    if (Object.keys(customer).length) body.customer = customer;
    return body;
  }
  if (form) {
    form.addEventListener('change', function (event) {
      if (event.target.name === 'type') { showType(); if (!byId('start-errors').hidden) showErrors(validate(), true); }
    });
    form.addEventListener('input', function (event) {
      startKey = null;
      // Once the agent corrects a field the form complained about, the complaint goes.
      if (event.target.getAttribute('aria-invalid') === 'true') showErrors(validate(), true);
    });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (starting) return;
      var errors = validate();
      showErrors(errors);
      if (errors.length) return;
      starting = true;
      byId('start-button').disabled = true;
      var body = startBody();
      // The same key until the form changes: a double submit or a retry starts one session (and texts one link).
      startKey = startKey || randomKey();
      api('POST', '/sessions', body, { 'Idempotency-Key': startKey }).then(function (answer) {
        starting = false;
        byId('start-button').disabled = false;
        if (!answer.ok) {
          showErrors([{ field: null, message: failure(answer) }]);
          return;
        }
        startKey = null;
        showErrors([]);
        byId('start').hidden = true;
        accept(answer);
        follow();
        announce(body.type === 'digital' ? 'Payment link texted to ' + body.customer.phone + '. Waiting for the customer.' : 'Payment started. Ask the caller for each field.');
        byId('payment-title').focus();
      });
    });
    byId('new-payment').addEventListener('click', function () {
      var call = session ? session.call_sid : '';
      stopStream();
      session = null;
      version = 0;
      byId('payment').hidden = true;
      byId('result').hidden = true;
      byId('actions').hidden = false;
      ['amount', 'reference'].forEach(function (id) { byId(id).value = ''; });
      if (call) byId('call_sid').value = call;
      byId('start').hidden = false;
      byId('start-title').focus();
    });
    prefill(new URLSearchParams(window.location.search));
    showType();
  }

  // What the agent desktop knows: by URL (?call_sid=...&phone=...) or by postMessage from an allowed origin.
  function prefill(values) {
    var map = { call_sid: 'call_sid', amount: 'amount', currency: 'currency', reference: 'reference', name: 'customer_name', postal_code: 'customer_postal_code', address: 'customer_address', phone: 'customer_phone' };
    Object.keys(map).forEach(function (key) {
      var given = values.get(key);
      if (typeof given === 'string' && given.length <= 255 && byId(map[key])) byId(map[key]).value = given;
    });
    var method = values.get('payment_method');
    if (method === 'ach' || method === 'card') byId(method === 'ach' ? 'method-ach' : 'method-card').checked = true;
    var type = values.get('payment_type');
    if ((type === 'agent' || type === 'digital') && !byId('type-' + type).disabled) { byId('type-' + type).checked = true; showType(); }
  }
  window.addEventListener('message', function (event) {
    if (ancestors.indexOf(event.origin) < 0 || event.source !== window.parent) return;
    var data = event.data;
    if (!data || typeof data !== 'object' || data.type !== 'paybridge:prefill' || !form || session) return;
    var values = new Map();
    Object.keys(data).forEach(function (key) { if (typeof data[key] === 'string') values.set(key, data[key]); });
    if (data.customer && typeof data.customer === 'object') Object.keys(data.customer).forEach(function (key) { if (typeof data.customer[key] === 'string') values.set(key, data.customer[key]); });
    prefill(values);
    announce('The form was filled in by your desktop');
  });
  if (window.parent !== window) ancestors.forEach(function (origin) { window.parent.postMessage({ type: 'paybridge:ready' }, origin); });

  // ---- A console opened from a console_url: the code, once, for a token kept here only
  if (mode === 'link') {
    var code = /(?:^#|&)code=([A-Za-z0-9_-]+)/.exec(window.location.hash);
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    var status = byId('link-status');
    if (!code) {
      status.textContent = 'This page needs a console link from your desktop.';
      return;
    }
    api('POST', '/link-token', { code: code[1] }).then(function (answer) {
      if (!answer.ok) { status.textContent = failure(answer.status === 401 ? { status: 400, body: answer.body } : answer); return; }
      bearer = answer.body.token;
      status.hidden = true;
      accept(answer);
      follow();
      byId('payment-title').focus();
    });
  }
})();
`;
