/**
 * The payment page's one script (served at /pay/assets/pay.js, listed with its integrity hash in
 * script-inventory.json): the card type as the number is typed, the same checks as the server
 * before the form is sent (Luhn, expiry, security code length, routing checksum) with an error
 * summary linked to the fields, a guard against a second submit, and the heartbeat that tells the
 * agent the customer is on the page, with how many characters each field holds (counts, never
 * characters); while a payment is processing, it asks for the page again until it shows the
 * result. It sends nothing anywhere but this service, and only to the page's own address.
 */
export const PAY_SCRIPT = String.raw`'use strict';
(function () {
  var form = document.getElementById('payment-form');
  var summary = document.getElementById('error-summary');
  if (summary && !summary.hidden) summary.focus();

  // ---- Processing: ask for the page now and then, and show it once it has the result.
  if (document.getElementById('processing')) {
    var polls = 0;
    var poll = function () {
      fetch(location.pathname, { credentials: 'same-origin', cache: 'no-store' })
        .then(function (answer) { return answer.text(); })
        .then(function (page) {
          if (page.indexOf('id="processing"') < 0) location.reload();
          else setTimeout(poll, Math.min(15000, 3000 + 500 * polls++));
        })
        .catch(function () { setTimeout(poll, 15000); });
    };
    setTimeout(poll, 3000);
  }
  if (!form) return;

  var FIELDS = ['card_number', 'expiry', 'security_code', 'postal_code', 'routing_number', 'account_number'];
  var BRANDS = [
    ['American Express', /^3[47]/], ['Diners Club', /^3(0|6|8|9)/], ['JCB', /^35(2[89]|[3-8])/], ['Visa', /^4/],
    ['Mastercard', /^(5[1-5]|2(2[2-9][1-9]|2[3-9]|[3-6]|7[01]|720))/], ['Discover', /^(6011|64[4-9]|65)/],
    ['UnionPay', /^(62|81)/], ['Maestro', /^(50|5[6-8]|6)/]
  ];
  var csrf = form.querySelector('input[name=_csrf]').value;
  var title = document.title.replace(/^Error: /, '');
  var button = document.getElementById('pay-button');
  var sent = false;

  function input(name) { return document.getElementById(name); }
  function digits(name) { var el = input(name); return el ? el.value.replace(/[\s-]/g, '') : ''; }
  function brandOf(number) {
    for (var i = 0; i < BRANDS.length; i++) if (BRANDS[i][1].test(number)) return BRANDS[i][0];
    return '';
  }
  function luhn(number) {
    var sum = 0, double = false;
    for (var i = number.length - 1; i >= 0; i--) {
      var d = number.charCodeAt(i) - 48;
      if (double) { d *= 2; if (d > 9) d -= 9; }
      sum += d; double = !double;
    }
    return number.length > 0 && sum % 10 === 0;
  }
  function aba(routing) {
    if (!/^\d{9}$/.test(routing)) return false;
    var w = [3, 7, 1, 3, 7, 1, 3, 7, 1], sum = 0;
    for (var i = 0; i < 9; i++) sum += w[i] * (routing.charCodeAt(i) - 48);
    return sum % 10 === 0;
  }

  var brandLine = document.getElementById('card-brand');
  if (brandLine) {
    input('card_number').addEventListener('input', function () {
      var brand = brandOf(digits('card_number'));
      var text = brand ? 'Card type: ' + brand : '';
      if (brandLine.textContent !== text) brandLine.textContent = text;
    });
  }

  /** The problem code of each field, as the server would find it. */
  function problems() {
    var found = [];
    function check(name, problem) { if (problem && input(name)) found.push([name, problem]); }
    if (form.getAttribute('data-kind') === 'ach') {
      var routing = digits('routing_number');
      check('routing_number', !routing ? 'missing' : aba(routing) ? '' : 'invalid');
      var account = digits('account_number');
      check('account_number', !account ? 'missing' : /^\d{4,17}$/.test(account) ? '' : 'invalid');
      var type = form.querySelector('input[name=account_type]:checked');
      if (!type) found.push(['account_type', 'missing']);
      return found;
    }
    var number = digits('card_number');
    check('card_number', !number ? 'missing' : /^\d{12,19}$/.test(number) && luhn(number) ? '' : 'invalid');
    var expiry = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(input('expiry').value);
    if (!input('expiry').value.trim()) check('expiry', 'missing');
    else if (!expiry || +expiry[1] < 1 || +expiry[1] > 12) check('expiry', 'invalid');
    else {
      var now = new Date();
      var year = 2000 + +expiry[2].slice(-2);
      if (year * 12 + +expiry[1] < now.getFullYear() * 12 + now.getMonth() + 1) check('expiry', 'expired');
    }
    if (input('security_code')) {
      var code = digits('security_code');
      var length = brandOf(number) === 'American Express' ? 4 : 3;
      check('security_code', !code ? 'missing' : !/^\d+$/.test(code) ? 'invalid' : code.length === length ? '' : 'length');
    }
    if (input('postal_code')) {
      var postal = input('postal_code').value.trim();
      check('postal_code', !postal ? 'missing' : /^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$/.test(postal) ? '' : 'invalid');
    }
    return found;
  }

  function show(found) {
    var list = summary.querySelector('ul');
    while (list.firstChild) list.removeChild(list.firstChild);
    FIELDS.concat(['account_type']).forEach(function (name) {
      var error = document.getElementById(name + '-error');
      var el = input(name);
      if (!error || !el) return;
      error.hidden = true;
      error.textContent = '';
      if (el.tagName === 'INPUT') el.removeAttribute('aria-invalid');
    });
    found.forEach(function (entry) {
      var name = entry[0], el = input(name);
      var text = el.getAttribute('data-' + entry[1]) || 'Check this field';
      var error = document.getElementById(name + '-error');
      var hidden = document.createElement('span');
      hidden.className = 'visually-hidden';
      hidden.textContent = 'Error: ';
      error.appendChild(hidden);
      error.appendChild(document.createTextNode(text));
      error.hidden = false;
      if (el.tagName === 'INPUT') el.setAttribute('aria-invalid', 'true');
      var item = document.createElement('li');
      var link = document.createElement('a');
      link.href = '#' + (name === 'account_type' ? 'account_type-checking' : name);
      link.textContent = text;
      item.appendChild(link);
      list.appendChild(item);
    });
    summary.hidden = found.length === 0;
    // As the server's page does: the title says there is a problem.
    document.title = (found.length > 0 ? 'Error: ' : '') + title;
    if (found.length > 0) summary.focus();
  }

  form.addEventListener('submit', function (event) {
    if (sent) { event.preventDefault(); return; }
    var found = problems();
    if (found.length > 0) { event.preventDefault(); show(found); return; }
    sent = true;
    // The form still posts (the browser's own submission): the button only stops a second one.
    setTimeout(function () { button.disabled = true; button.textContent = 'Processing…'; }, 0);
  });

  // ---- Presence: a heartbeat every 5 s while the page is shown, and soon after each change.
  var path = location.pathname.replace(/\/+$/, '') + '/presence';
  var timer = null, pending = null, last = '';
  function typed() {
    var counts = {};
    FIELDS.forEach(function (name) {
      var el = input(name);
      if (el) counts[name] = name === 'postal_code' ? el.value.trim().length : el.value.replace(/\D/g, '').length;
    });
    return counts;
  }
  function beat(force) {
    if (sent || document.visibilityState === 'hidden') return;
    var body = JSON.stringify({ typed: typed() });
    if (!force && body === last) return;
    last = body;
    fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: body, credentials: 'same-origin', cache: 'no-store' })
      .then(function (answer) { if (answer.status === 410) location.reload(); })
      .catch(function () { /* the next beat tries again */ });
  }
  function start() { if (!timer) { beat(true); timer = setInterval(function () { beat(true); }, 5000); } }
  function stop() { clearInterval(timer); timer = null; }
  form.addEventListener('input', function () {
    clearTimeout(pending);
    pending = setTimeout(function () { beat(false); }, 300);
  });
  document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'hidden') stop(); else start(); });
  start();
})();
`;
