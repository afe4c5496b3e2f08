// Graph explorer: the network around a person from the gateway's team-scoped network endpoint
// (GET /jits/{jit}/persons/{id}/network), drawn with cytoscape.js. Clicking a node, or its
// button in the list beside the graph, expands it: a person's own network one hop out; any other
// node's neighbours from the root person's network one hop further than that node.
(function () {
  "use strict";
  var COLORS = { Person: "#1f4e79", Identifier: "#6b7d2a", Lead: "#8a5a00", Operation: "#8b1e3f",
                 Organisation: "#4b3b8f", Location: "#2f6f6f", Task: "#555", Alert: "#b3261e",
                 DeconflictionHit: "#c25e00" };
  var MAX_DEPTH = 3;

  function start() {
    var el = document.getElementById("graph");
    if (!el || el.dataset.enabled !== "true" || !window.cytoscape) return;
    var jit = el.dataset.jit;
    var rootRef = el.dataset.focus;
    var rootId = "Person:" + rootRef;
    var list = document.getElementById("graph-nodes");
    var flash = document.getElementById("flash");
    var hops = {};
    var expanded = {};
    var cy = cytoscape({
      container: el,
      wheelSensitivity: 0.3,
      minZoom: 0.2,
      maxZoom: 1.5,
      style: [
        { selector: "node", style: { "background-color": "data(color)", label: "data(label)", color: "#15202b",
          "font-size": 11, "text-valign": "bottom", "text-margin-y": 4, width: 24, height: 24,
          "text-wrap": "ellipsis", "text-max-width": 150, "text-background-color": "#fff",
          "text-background-opacity": 0.85, "text-background-padding": 2 } },
        { selector: "node[kind = 'Person']", style: { shape: "ellipse", width: 30, height: 30 } },
        { selector: "node[kind = 'Identifier']", style: { shape: "round-rectangle" } },
        { selector: "node[kind = 'Lead']", style: { shape: "diamond" } },
        { selector: "node[?expanded]", style: { "border-width": 3, "border-color": "#f2b632" } },
        { selector: "node[?root]", style: { width: 40, height: 40, "font-weight": "bold" } },
        { selector: "edge", style: { width: 1.5, "line-color": "#9aa5b1", "target-arrow-color": "#9aa5b1",
          "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(label)", "font-size": 8,
          color: "#5b6670", "text-rotation": "autorotate", "text-background-color": "#fff",
          "text-background-opacity": 0.85 } },
      ],
    });

    function say(text, kind) {
      if (!flash) return;
      flash.textContent = text;
      flash.className = "flash show " + (kind || "ok");
      setTimeout(function () { flash.className = "flash"; }, 4000);
    }

    function caption(node) { return String(node.label || node.ref || node.id); }
    function short(text) { return text.length > 32 ? text.slice(0, 31) + "…" : text; }

    function listItem(node) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.dataset.node = node.id;
      button.textContent = caption(node) + " (" + node.kind + ")";
      button.setAttribute("aria-label", "Expand " + caption(node) + ", " + node.kind);
      button.addEventListener("click", function () { expand(node.id); });
      item.appendChild(button);
      if (node.kind === "Person" && node.ref) {
        var card = document.createElement("a");
        card.href = "/ui/jits/" + encodeURIComponent(jit) + "/persons/" + encodeURIComponent(node.ref);
        card.textContent = "card";
        card.className = "muted";
        item.appendChild(document.createTextNode(" · "));
        item.appendChild(card);
      }
      list.appendChild(item);
    }

    function addNode(node, hop) {
      if (cy.getElementById(node.id).length) return false;
      cy.add({ group: "nodes", data: { id: node.id, ref: node.ref, kind: node.kind, label: short(caption(node)),
                                       color: COLORS[node.kind] || "#777", root: node.id === rootId } });
      hops[node.id] = hop;
      listItem(node);
      return true;
    }

    function addEdge(edge) {
      if (cy.getElementById(edge.id).length) return;
      if (!cy.getElementById(edge.source).length || !cy.getElementById(edge.target).length) return;
      var role = edge.data && edge.data.role ? " (" + edge.data.role + ")" : "";
      cy.add({ group: "edges", data: { id: edge.id, source: edge.source, target: edge.target,
                                       label: String(edge.type || "").toLowerCase().replace(/_/g, " ") + role } });
    }

    function network(ref, depth) {
      var url = "/jits/" + encodeURIComponent(jit) + "/persons/" + encodeURIComponent(ref) + "/network?depth=" + depth +
        "&purpose_case=" + encodeURIComponent(el.dataset.purposeCase || "") +
        "&purpose_reason=" + encodeURIComponent(el.dataset.purposeReason || "");
      return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.error || ("the gateway answered " + r.status));
          return body;
        });
      });
    }

    function merge(graph, around, hop) {
      // add the nodes and edges of ``graph`` (with ``around``: only those touching that node)
      var byId = {};
      (graph.nodes || []).forEach(function (n) { byId[n.id] = n; });
      var added = 0;
      if (around) {
        (graph.edges || []).forEach(function (e) {
          if (e.source !== around && e.target !== around) return;
          [e.source, e.target].forEach(function (id) { if (byId[id] && addNode(byId[id], hop)) added++; });
        });
      } else {
        (graph.nodes || []).forEach(function (n) { if (addNode(n, n.id === rootId ? 0 : hop)) added++; });
      }
      (graph.edges || []).forEach(addEdge);
      return added;
    }

    function relayout() {
      // rings around the root person: one ring per hop, so "how far" reads at a glance
      cy.layout({ name: "concentric", animate: false, fit: true, padding: 50, minNodeSpacing: 70,
                  startAngle: Math.PI / 2, concentric: function (n) { return 10 - (hops[n.id()] || 0); },
                  levelWidth: function () { return 1; } }).run();
      el.dataset.nodes = String(cy.nodes().length);
    }

    function expand(id) {
      if (expanded[id]) { say("Already expanded."); return Promise.resolve(); }
      var node = cy.getElementById(id);
      if (!node.length) return Promise.resolve();
      var kind = node.data("kind");
      var request;
      if (kind === "Person") {
        request = network(node.data("ref"), 1).then(function (g) { return merge(g, null, (hops[id] || 0) + 1); });
      } else {
        var depth = (hops[id] || 0) + 1;
        if (depth > MAX_DEPTH) { say("Too far from " + rootRef + " to expand; open a person closer to it.", "error"); return Promise.resolve(); }
        request = network(rootRef, depth).then(function (g) { return merge(g, id, depth); });
      }
      expanded[id] = true;
      el.setAttribute("aria-busy", "true");
      return request.then(function (added) {
        node.data("expanded", true);
        relayout();
        say(added + " node" + (added === 1 ? "" : "s") + " added around " + node.data("label") + ".");
      }).catch(function (err) {
        expanded[id] = false;
        say("Could not expand: " + err.message, "error");
      }).finally(function () { el.removeAttribute("aria-busy"); });
    }

    cy.on("tap", "node", function (event) { expand(event.target.id()); });
    window.interlockGraph = { cy: cy, expand: expand };

    el.setAttribute("aria-busy", "true");
    network(rootRef, 1).then(function (g) {
      merge(g, null, 1);
      expanded[rootId] = true;
      cy.getElementById(rootId).data("expanded", true);
      relayout();
    }).catch(function (err) {
      say("Could not open the network: " + err.message, "error");
      el.dataset.nodes = "0";
    }).finally(function () { el.removeAttribute("aria-busy"); });
  }
  document.addEventListener("DOMContentLoaded", start);
})();
