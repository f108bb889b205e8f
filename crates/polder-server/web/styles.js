// The style sheet of the web components' shadow roots. It is applied as a
// constructed style sheet (adoptedStyleSheets), which a strict
// Content-Security-Policy allows: there is no inline <style> anywhere.
// Theme it from the host page with the custom properties below.

export const CSS = `
:host {
  --_text: var(--polder-text, #1a1a1a);
  --_muted: var(--polder-muted, #555555);
  --_bg: var(--polder-bg, #ffffff);
  --_surface: var(--polder-surface, #f4f6f8);
  --_border: var(--polder-border, #6b7280);
  --_accent: var(--polder-accent, #1d4f91);
  --_accent-text: var(--polder-accent-text, #ffffff);
  --_focus: var(--polder-focus, #b3001b);
  --_agree: var(--polder-agree, #1b6e3a);
  --_disagree: var(--polder-disagree, #a4262c);
  --_radius: var(--polder-radius, 0.5rem);
  --_font: var(--polder-font, system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif);
  display: block;
  container-type: inline-size;
  color: var(--_text);
  background: var(--_bg);
  font-family: var(--_font);
  font-size: var(--polder-font-size, 1rem);
  line-height: 1.5;
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.visually-hidden {
  position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; margin: -1px; padding: 0; border: 0;
}
:focus-visible { outline: 3px solid var(--_focus); outline-offset: 2px; }
h2, h3, h4 { line-height: 1.25; margin: 0 0 0.5rem; }
p { margin: 0 0 0.75rem; }
button {
  font: inherit; cursor: pointer; border-radius: var(--_radius);
  border: 2px solid var(--_accent); background: var(--_accent); color: var(--_accent-text);
  padding: 0.6rem 1.1rem; min-height: 2.75rem; min-width: 2.75rem;
}
button.secondary { background: var(--_bg); color: var(--_accent); }
button[aria-disabled="true"] { opacity: 0.75; cursor: progress; }
.panel {
  background: var(--_surface); border: 1px solid var(--_border); border-radius: var(--_radius);
  padding: 1rem 1.25rem; margin: 0 0 1rem;
}
.status { color: var(--_text); }
.error { color: var(--_disagree); font-weight: 600; }
.tag {
  display: inline-block; font-size: 0.8rem; font-weight: 600; letter-spacing: 0.04em;
  text-transform: uppercase; border: 1px solid var(--_border); border-radius: 0.25rem;
  padding: 0 0.35rem; color: var(--_muted); background: var(--_bg); vertical-align: middle;
}
.progress-line { display: flex; justify-content: space-between; gap: 1rem; flex-wrap: wrap; color: var(--_muted); font-size: 0.95rem; }
progress { width: 100%; height: 0.6rem; accent-color: var(--_accent); margin: 0.25rem 0 1rem; }
.statement {
  font-size: 1.3rem; font-weight: 500; margin: 0 0 1.25rem; padding: 0.25rem 0.25rem; border-radius: 0.25rem;
}
.statement:focus-visible { outline-color: var(--_accent); }
.choices { display: flex; flex-wrap: wrap; gap: 0.75rem; }
.choices button { flex: 1 1 8rem; font-weight: 600; }
button.agree { background: var(--_agree); border-color: var(--_agree); }
button.disagree { background: var(--_disagree); border-color: var(--_disagree); }
button.pass { background: var(--_bg); color: var(--_text); border-color: var(--_border); }
.write label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
.write textarea {
  width: 100%; min-height: 5rem; font: inherit; padding: 0.5rem; color: var(--_text); background: var(--_bg);
  border: 2px solid var(--_border); border-radius: var(--_radius);
}
.hint { color: var(--_muted); font-size: 0.95rem; }
.row { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; justify-content: space-between; margin-top: 0.5rem; }
figure { margin: 0; }
svg.map { width: 100%; height: auto; display: block; background: var(--_bg); border: 1px solid var(--_border); border-radius: var(--_radius); }
svg .region { stroke-width: 2; }
svg .point { fill: var(--polder-point, #3a3a3a); }
svg .label { font: 700 18px var(--_font); fill: var(--_text); paint-order: stroke; stroke: var(--_bg); stroke-width: 5px; stroke-linejoin: round; }
svg .me-ring { fill: none; stroke: var(--_focus); stroke-width: 3; }
svg .me-dot { fill: var(--_focus); }
svg .me-label { font: 700 14px var(--_font); fill: var(--_focus); paint-order: stroke; stroke: var(--_bg); stroke-width: 4px; }
@media (prefers-reduced-motion: no-preference) {
  svg .point, svg .region, svg .me { transition: transform 400ms ease, opacity 400ms ease; }
  .fill { transition: width 400ms ease; }
}
figcaption { color: var(--_muted); margin-top: 0.5rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; font-size: 0.95rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.35rem; }
th, td { text-align: left; padding: 0.4rem 0.5rem; border-bottom: 1px solid var(--_border); vertical-align: top; }
thead th { border-bottom-width: 2px; }
td.num, th.num { text-align: right; white-space: nowrap; }
.bar { display: block; height: 0.45rem; background: var(--_surface); border: 1px solid var(--_border); border-radius: 0.2rem; margin-top: 0.2rem; min-width: 4rem; }
.fill { display: block; height: 100%; background: var(--_agree); width: 0; }
.fill.others { background: var(--_muted); }
.group { border-left: 0.5rem solid var(--_border); padding-left: 1rem; margin-bottom: 1.5rem; }
.group[data-g="0"] { border-left-color: #005a8c; }
.group[data-g="1"] { border-left-color: #a84300; }
.group[data-g="2"] { border-left-color: #006e50; }
.group[data-g="3"] { border-left-color: #9c4f7f; }
.group[data-g="4"] { border-left-color: #7a5400; }
.group[data-g="5"] { border-left-color: #2c6f94; }
.note { font-size: 0.85rem; color: var(--_muted); }
.timeline { display: grid; gap: 0.5rem; }
.timeline input[type="range"] { width: 100%; accent-color: var(--_accent); min-height: 2.75rem; }
.timeline label { font-weight: 600; }
.timeline output { font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; }
ul.plain { list-style: none; padding: 0; margin: 0; }
@container (max-width: 34rem) {
  table { font-size: 0.875rem; }
  th, td { padding: 0.35rem 0.25rem; }
  th.num { white-space: normal; }
  .bar { min-width: 2.5rem; }
  .statement { font-size: 1.15rem; }
}
th .short { display: none; }
@container (max-width: 26rem) {
  .bar { display: none; }
  th .short { display: inline; }
  th .long {
    position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; margin: -1px;
  }
}
@media print {
  button, .timeline input { display: none !important; }
  .table-wrap[hidden] { display: block !important; }
  .panel { border-color: #000; }
}
@media (forced-colors: active) {
  .fill { background: CanvasText; }
  button { border: 2px solid ButtonText; }
}
`;

let shared = null;

/** The shared constructed style sheet. */
export function sheet() {
  if (!shared) {
    shared = new CSSStyleSheet();
    shared.replaceSync(CSS);
  }
  return shared;
}
