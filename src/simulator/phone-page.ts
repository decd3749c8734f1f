import type { SimulatedCall } from './call';

/**
 * The caller's phone in a browser (`GET /simulator/phone/{CallSid}`): a keypad that sends DTMF
 * to the call, what the call says as it says it, and the text messages the caller's number
 * receives, links clickable. Rendered here, with its one script and one stylesheet served by
 * the simulator too: no third-party request, works offline, and the Content-Security-Policy
 * allows nothing but the simulator itself. Typed digits are never shown back.
 */
export const PHONE_PAGE_CSP = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
export const PHONE_SCRIPT_PATH = '/simulator/assets/phone.js';
export const PHONE_STYLES_PATH = '/simulator/assets/phone.css';
export const PHONE_ICON_PATH = '/simulator/assets/phone.svg';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] ?? character);

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];
const KEY_NAMES: Record<string, string> = { '*': 'star', '#': 'pound' };

export function phonePage(call: SimulatedCall): string {
  const keys = KEYS.map((key) => `<button type="button" class="key" data-key="${escapeHtml(key)}" aria-label="${escapeHtml(KEY_NAMES[key] ?? key)}">${escapeHtml(key)}</button>`).join('\n        ');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Caller's phone: ${escapeHtml(call.from)}</title>
  <link rel="icon" href="${PHONE_ICON_PATH}" type="image/svg+xml">
  <link rel="stylesheet" href="${PHONE_STYLES_PATH}">
  <script src="${PHONE_SCRIPT_PATH}" defer></script>
</head>
<body>
  <main id="phone" data-call-sid="${escapeHtml(call.sid)}">
    <h1>Caller's phone</h1>
    <p class="line">Call <span class="sid">${escapeHtml(call.sid)}</span> from ${escapeHtml(call.from)} to ${escapeHtml(call.to)}: <span id="call-state">${escapeHtml(call.status)}</span></p>
    <section aria-labelledby="prompts-title">
      <h2 id="prompts-title">What the call says</h2>
      <ol id="prompts" aria-live="polite"></ol>
    </section>
    <section aria-labelledby="keypad-title">
      <h2 id="keypad-title">Keypad</h2>
      <div class="keypad" role="group" aria-labelledby="keypad-title">
        ${keys}
      </div>
      <p id="key-status" role="status" aria-live="polite"></p>
      <button type="button" id="hang-up">Hang up</button>
    </section>
    <section aria-labelledby="messages-title">
      <h2 id="messages-title">Text messages to ${escapeHtml(call.from)}</h2>
      <ul id="messages" aria-live="polite"></ul>
    </section>
  </main>
</body>
</html>
`;
}

/** The page's script: plain DOM, text set with textContent only, live updates by Server-Sent Events. */
export const PHONE_SCRIPT = String.raw`'use strict';
(function () {
  var phone = document.getElementById('phone');
  var callSid = phone.getAttribute('data-call-sid');
  var base = '/simulator/calls/' + encodeURIComponent(callSid);
  var prompts = document.getElementById('prompts');
  var messages = document.getElementById('messages');
  var keyStatus = document.getElementById('key-status');
  var callState = document.getElementById('call-state');
  var seenEvents = new Set();
  var messageItems = new Map();

  function promptText(event) {
    if (event.type === 'say') return event.text;
    if (event.type === 'play') return 'Plays ' + event.url;
    if (event.type === 'hangup') return 'The call has ended.';
    return null;
  }

  function appendWithLinks(parent, text) {
    var pattern = /https?:\/\/[^\s<>"']+/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var link = document.createElement('a');
      link.href = match[0];
      link.textContent = match[0];
      link.rel = 'noopener noreferrer';
      link.target = '_blank';
      parent.appendChild(link);
      last = match.index + match[0].length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function showCallEvent(event) {
    if (seenEvents.has(event.sequence)) return;
    seenEvents.add(event.sequence);
    if (event.type === 'hangup') callState.textContent = 'completed';
    var text = promptText(event);
    if (text === null) return;
    var item = document.createElement('li');
    item.textContent = text;
    prompts.appendChild(item);
  }

  function showMessage(message) {
    if (message.status !== 'delivered') return;
    if (messageItems.has(message.sid)) return;
    var item = document.createElement('li');
    var from = document.createElement('span');
    from.className = 'from';
    from.textContent = 'From ' + message.from + ': ';
    item.appendChild(from);
    var body = document.createElement('span');
    body.className = 'body';
    appendWithLinks(body, message.body);
    item.appendChild(body);
    messageItems.set(message.sid, item);
    messages.appendChild(item);
  }

  var stream = new EventSource('/simulator/phone/' + encodeURIComponent(callSid) + '/stream');
  stream.addEventListener('call', function (e) { showCallEvent(JSON.parse(e.data)); });
  stream.addEventListener('sms', function (e) { showMessage(JSON.parse(e.data)); });
  stream.addEventListener('open', function () { phone.setAttribute('data-live', 'true'); });

  function post(path, form) {
    return fetch(base + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form || {}).toString(),
    });
  }

  var sentKeys = 0;
  function press(key) {
    post('/dtmf', { Digits: key }).then(function (response) {
      if (response.ok) {
        sentKeys += 1;
        keyStatus.textContent = sentKeys + (sentKeys === 1 ? ' key sent' : ' keys sent');
      } else {
        keyStatus.textContent = 'Nothing on the call is listening for keys right now.';
      }
    }, function () {
      keyStatus.textContent = 'The simulator cannot be reached.';
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll('button[data-key]'), function (button) {
    button.addEventListener('click', function () { press(button.getAttribute('data-key')); });
  });
  document.addEventListener('keydown', function (e) {
    if (/^[0-9*#]$/.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey) press(e.key);
  });
  document.getElementById('hang-up').addEventListener('click', function () {
    post('/hangup').then(function () { keyStatus.textContent = 'You hung up.'; });
  });
})();
`;

export const PHONE_STYLES = `
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f4f6; color: #111; }
main { max-width: 28rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; }
h2 { font-size: 1.1rem; margin-top: 1.5rem; }
.line { font-size: 0.9rem; overflow-wrap: anywhere; }
.keypad { display: grid; grid-template-columns: repeat(3, 1fr); gap: 0.5rem; max-width: 16rem; }
.key { font-size: 1.5rem; padding: 0.75rem 0; border-radius: 0.5rem; border: 1px solid #555; background: #fff; color: #111; cursor: pointer; }
.key:focus-visible, #hang-up:focus-visible { outline: 3px solid #1a5fb4; outline-offset: 2px; }
#hang-up { margin-top: 0.5rem; padding: 0.5rem 1rem; border-radius: 0.5rem; border: 1px solid #8b0000; background: #b00020; color: #fff; cursor: pointer; }
#prompts, #messages { background: #fff; border: 1px solid #ccc; border-radius: 0.5rem; padding: 0.5rem 0.5rem 0.5rem 2rem; min-height: 2rem; }
#messages { list-style: none; padding-left: 0.5rem; }
#messages li { padding: 0.25rem 0; overflow-wrap: anywhere; }
.from { font-weight: bold; }
a { color: #0b4f9c; }
`;

/** The page's icon, served here so that the browser asks nothing of anyone else. */
export const PHONE_ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="4" y="1" width="8" height="14" rx="1.5" fill="#1a5fb4"/><rect x="5.5" y="3" width="5" height="7" fill="#fff"/></svg>';
