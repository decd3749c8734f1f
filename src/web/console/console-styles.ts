/** The console's stylesheet: GOV.UK-like colours with AA contrast, one column that reads at 320 px. */
export const CONSOLE_STYLES = `
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 0; background: #f3f2f1; color: #0b0c0c; line-height: 1.4; font-size: 1rem; }
main { max-width: 44rem; margin: 0 auto; padding: 0.75rem; }
main.narrow { max-width: 26rem; }
h1 { font-size: 1.5rem; margin: 0.5rem 0; }
h2 { font-size: 1.25rem; margin: 1rem 0 0.5rem; }
h3 { font-size: 1.1rem; margin: 0.5rem 0; }
section { background: #fff; border: 1px solid #b1b4b6; border-radius: 0.25rem; padding: 0.75rem; margin: 0.75rem 0; }
.top { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 0.5rem; }
.sign-out { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; }
.who { font-size: 0.9rem; }
.form-group { margin: 0 0 1rem; }
fieldset.form-group { border: 0; padding: 0; }
legend, label { font-weight: 600; display: block; margin-bottom: 0.25rem; }
.choice { display: flex; align-items: flex-start; gap: 0.5rem; margin: 0.25rem 0; }
.choice label { font-weight: 400; margin: 0; }
.choice input { width: 1.25rem; height: 1.25rem; margin: 0.1rem 0 0; flex: none; }
input[type=text], input[type=password], select { display: block; width: 100%; max-width: 24rem; font: inherit; padding: 0.4rem; border: 2px solid #0b0c0c; border-radius: 0; background: #fff; color: #0b0c0c; }
input[aria-invalid=true] { border-color: #d4351c; }
.hint { color: #505a5f; margin: 0 0 0.25rem; font-size: 0.95rem; }
.required { color: #d4351c; font-weight: 700; }
.field-error { color: #d4351c; font-weight: 700; margin: 0 0 0.25rem; }
.error-summary { border: 4px solid #d4351c; padding: 0.75rem; margin: 0.75rem 0; background: #fff; }
.error-summary a { color: #d4351c; font-weight: 700; }
.problem { border-left: 6px solid #d4351c; background: #fff; padding: 0.5rem 0.75rem; margin: 0.75rem 0; }
button { font: inherit; font-weight: 600; padding: 0.5rem 0.9rem; border: 0; border-radius: 0.2rem; background: #00703c; color: #fff; cursor: pointer; box-shadow: 0 2px 0 #002d18; min-height: 2.5rem; }
button.secondary { background: #f3f2f1; color: #0b0c0c; box-shadow: 0 2px 0 #929191; border: 1px solid #b1b4b6; }
button.warning { background: #d4351c; box-shadow: 0 2px 0 #55150b; }
button:disabled { background: #e5e6e7; color: #505a5f; box-shadow: none; cursor: not-allowed; }
:focus-visible { outline: 3px solid #ffdd00; outline-offset: 0; box-shadow: 0 0 0 6px #0b0c0c; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; margin: 0; padding: 0; overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); border: 0; white-space: nowrap; }
.summary { display: flex; flex-wrap: wrap; gap: 0.25rem 1.5rem; margin: 0 0 0.5rem; }
.summary div { min-width: 0; }
.summary dt { font-size: 0.85rem; color: #505a5f; }
.summary dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.sid { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85rem; }
.status-bar { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; justify-content: space-between; margin: 0.5rem 0; }
.secure, .presence { display: flex; align-items: center; gap: 0.5rem; margin: 0; padding: 0.35rem 0.6rem; border-radius: 0.2rem; background: #f3f2f1; color: #0b0c0c; border: 2px solid #505a5f; }
.secure-dot, .presence-dot { width: 0.9rem; height: 0.9rem; border-radius: 50%; background: #505a5f; flex: none; }
.secure[data-secure=true], .presence[data-present=true] { border-color: #00703c; background: #e6f2ec; }
.secure[data-secure=true] .secure-dot, .presence[data-present=true] .presence-dot { background: #00703c; }
.presence { margin: 0.5rem 0; font-weight: 600; }
.choice-hint { margin-left: 1.75rem; }
.notice { border-left: 6px solid #d4351c; background: #fef7f6; padding: 0.5rem 0.75rem; margin: 0.5rem 0; }
.notice h3 { margin-top: 0; }
.countdown { margin: 0; font-weight: 600; }
.countdown.low { color: #d4351c; }
.fields { list-style: none; padding: 0; margin: 0.5rem 0; }
.field { border-top: 1px solid #b1b4b6; padding: 0.6rem 0; }
.field[data-active=true] { border-left: 5px solid #1d70b8; padding-left: 0.5rem; }
.field-head { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; justify-content: space-between; }
.field-name { font-weight: 700; }
.field-state { overflow-wrap: anywhere; }
.field[data-state=invalid] .field-state { color: #d4351c; font-weight: 700; }
.field[data-state=captured] .field-state { color: #00703c; font-weight: 700; }
.dots { min-height: 1.4rem; letter-spacing: 0.2rem; font-size: 1.2rem; color: #1d70b8; overflow-wrap: anywhere; }
.field-actions, .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-top: 0.4rem; }
.result { border: 4px solid #505a5f; padding: 0.75rem; margin-top: 0.75rem; }
.result[data-outcome=approved] { border-color: #00703c; }
.result[data-outcome=declined] { border-color: #d4351c; }
.small { font-size: 0.85rem; color: #505a5f; }
@media (max-width: 30rem) { main { padding: 0.5rem; } section { padding: 0.5rem; } button { width: 100%; } .sign-out button { width: auto; } }
`;
