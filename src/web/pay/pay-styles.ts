/** The payment page's stylesheet: plain, AA contrast, one column that reads at 320 px. */
export const PAY_STYLES = `
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 0; background: #f3f2f1; color: #0b0c0c; line-height: 1.4; font-size: 1rem; }
header { background: #0b0c0c; color: #fff; padding: 0.6rem 0.75rem; }
header p { margin: 0 auto; max-width: 32rem; font-weight: 700; }
main { max-width: 32rem; margin: 0 auto; padding: 0.75rem; }
h1 { font-size: 1.5rem; margin: 0.5rem 0 0.75rem; }
h2 { font-size: 1.2rem; margin: 0 0 0.5rem; }
section, form { background: #fff; border: 1px solid #b1b4b6; border-radius: 0.25rem; padding: 0.75rem; margin: 0.75rem 0; }
.test-banner { background: #ffdd00; color: #0b0c0c; border: 2px solid #0b0c0c; padding: 0.5rem 0.75rem; margin: 0.75rem 0; font-weight: 700; }
.summary { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
.summary dt { color: #505a5f; }
.summary dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.form-group { margin: 0 0 1rem; }
fieldset.form-group { border: 0; padding: 0; margin: 0 0 1rem; }
legend, label { font-weight: 600; display: block; margin-bottom: 0.25rem; }
.hint { color: #505a5f; margin: 0 0 0.25rem; font-size: 0.95rem; }
.field-error { color: #d4351c; font-weight: 700; margin: 0 0 0.25rem; }
input[type=text] { display: block; width: 100%; font: inherit; padding: 0.45rem; border: 2px solid #0b0c0c; border-radius: 0; background: #fff; color: #0b0c0c; }
input.short { max-width: 8rem; }
input[aria-invalid=true] { border-color: #d4351c; border-width: 3px; }
.choice { display: flex; align-items: center; gap: 0.5rem; margin: 0.25rem 0; }
.choice label { font-weight: 400; margin: 0; }
.choice input { width: 1.25rem; height: 1.25rem; margin: 0; }
.brand { min-height: 1.4rem; margin: 0.25rem 0 0; color: #505a5f; }
.error-summary { border: 4px solid #d4351c; padding: 0.75rem; margin: 0.75rem 0; background: #fff; }
.error-summary ul { margin: 0; padding-left: 1.25rem; }
.error-summary a { color: #d4351c; font-weight: 700; }
.notice { border-left: 6px solid #d4351c; background: #fff; padding: 0.5rem 0.75rem; margin: 0.75rem 0; }
.outcome { border: 4px solid #505a5f; }
.outcome.approved { border-color: #00703c; }
.outcome.declined { border-color: #d4351c; }
/* A narrow screen: each answer under its label, so that a confirmation code is never broken across lines. */
@media (max-width: 30rem) { .outcome .summary { grid-template-columns: 1fr; gap: 0; } .outcome .summary dd { margin-bottom: 0.5rem; } }
#confirmation-code { font-variant-numeric: tabular-nums; }
button { font: inherit; font-weight: 600; width: 100%; padding: 0.6rem 0.9rem; border: 0; border-radius: 0.2rem; background: #00703c; color: #fff; cursor: pointer; box-shadow: 0 2px 0 #002d18; min-height: 2.75rem; }
button:disabled { background: #e5e6e7; color: #505a5f; box-shadow: none; cursor: wait; }
:focus-visible { outline: 3px solid #ffdd00; outline-offset: 0; box-shadow: 0 0 0 6px #0b0c0c; }
.secure-note { font-size: 0.9rem; color: #505a5f; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; margin: 0; padding: 0; overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); border: 0; white-space: nowrap; }
.small { font-size: 0.85rem; color: #505a5f; }
`;
