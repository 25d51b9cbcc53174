/** The demo page the coordinator serves at `/`; its script is the browser client bundle. */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fedrec — train a recommender in this tab</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 58rem; margin: 2rem auto; padding: 0 1rem; }
  .movie { display: flex; gap: .4rem; align-items: center; margin: .15rem 0; }
  .movie span { flex: 1; }
  .movie button { font-size: 11px; padding: 1px 4px; }
  .movie button.chosen { background: #fc3; }
  #log { font: 12px monospace; white-space: pre; max-height: 12rem; overflow: auto; background: #f4f4f4; padding: .5rem; }
  .cols { display: grid; grid-template-columns: 1fr 1fr; gap: 2rem; }
</style>
</head>
<body>
<h1>Federated recommendations</h1>
<p>Your ratings stay in this browser (IndexedDB). Training runs here; only model updates are sent.</p>
<p>
  <label>Token <input id="token" size="50" autocomplete="off"></label>
  <button id="connect">Connect</button>
  <button id="join" disabled>Join training</button>
</p>
<p><label>About you (text-graph models only: encoded in this tab, never sent)<br><textarea id="about" rows="2" cols="60" placeholder="e.g. A 24-year-old male technician from the Mountain West of the US."></textarea></label></p>
<p id="status">enter the token your operator gave you (fedrec token create)</p>
<div class="cols">
  <div><h2>Rate a few movies (<span id="rated-count">0</span> rated)</h2><ul id="movies"></ul></div>
  <div><h2>Recommended for you (model <span id="recs-round">–</span>)</h2><ol id="recs"></ol></div>
</div>
<h3>Log</h3>
<div id="log"></div>
<script type="module" src="/client.js"></script>
</body>
</html>
`;
