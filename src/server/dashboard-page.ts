/** The operator dashboard page (`/dashboard`); its scripts are served beside it (server/dashboard.ts). */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fedrec coordinator</title>
<link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.45 system-ui, sans-serif; max-width: 78rem; margin: 1.5rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; }
  h2 { font-size: 1.1rem; margin-top: 1.6rem; border-bottom: 1px solid #ddd; }
  .note { color: #666; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 1rem; }
  .card { border: 1px solid #ddd; border-radius: 6px; padding: .6rem .9rem; }
  .card h3 { margin: 0 0 .3rem; font-size: .95rem; color: #555; }
  .big { font-size: 1.6rem; font-weight: 600; }
  dl { display: grid; grid-template-columns: auto auto; gap: .1rem 1rem; margin: 0; }
  dt { color: #555; } dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(34rem, 1fr)); gap: 1.2rem; }
  figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: .3rem; }
  .chart { position: relative; height: 16rem; }
  #error { color: #b00; }
  #refused-table { align-self: start; border-collapse: collapse; }
  #refused-table th, #refused-table td { text-align: left; padding: .2rem .6rem; border-bottom: 1px solid #eee; }
</style>
</head>
<body>
<h1>fedrec coordinator</h1>
<p class="note">Read-only. Updated <span id="updated">–</span>, every 2 s. <span id="error"></span></p>
<div class="cards">
  <div class="card"><h3>Model</h3><div class="big">version <span id="version">–</span></div><dl><dt>rounds to train</dt><dd id="total-rounds">–</dd><dt>registered clients</dt><dd id="registered">–</dd><dt>status</dt><dd id="status">–</dd></dl></div>
  <div class="card"><h3>Round in progress</h3><div class="big">round <span id="round">–</span></div><dl><dt>clients selected</dt><dd id="selected">–</dd><dt>answered</dt><dd id="answered">–</dd><dt>pending</dt><dd id="pending">–</dd><dt>late (past the deadline)</dt><dd id="late">–</dd><dt>deadline</dt><dd id="deadline">–</dd></dl></div>
  <div class="card"><h3>Updates (since this process started)</h3><div class="big"><span id="accepted">–</span> accepted</div><dl><dt>clipped to the norm bound</dt><dd id="clipped">–</dd><dt>refused</dt><dd id="refused-total">–</dd><dt>bytes received / sent</dt><dd id="bytes">–</dd></dl></div>
</div>
<h2>Refused updates by reason</h2>
<div class="grid"><figure><div class="chart"><canvas data-chart="refused" role="img" aria-label="refused updates by reason"></canvas></div></figure><table id="refused-table"><tbody></tbody></table></div>
<h2>Rounds</h2>
<div class="grid">
  <figure><figcaption>Mean client training loss and clients per closed round</figcaption><div class="chart"><canvas data-chart="rounds" role="img" aria-label="loss per round"></canvas></div></figure>
  <figure><figcaption>Validation metrics reported by the operator's evaluation</figcaption><div class="chart"><canvas data-chart="evaluation" role="img" aria-label="validation metrics per round"></canvas></div><p class="note" id="evaluation-note"></p></figure>
</div>
<script src="/dashboard/chart.js"></script>
<script type="module" src="/dashboard/app.js"></script>
</body>
</html>
`;
