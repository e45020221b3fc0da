// Live updates and answer forms. Page text only ever comes from server-rendered, escaped fragments.
// Requests go to this page's own origin and carry the server's HttpOnly cookie; the server refuses
// other origins, so keep every URL relative to location and every post JSON.
(function () {
  "use strict";
  const who = document.getElementById("who");
  const conn = document.getElementById("conn");
  who.value = localStorage.getItem("aiflows.who") || "";
  who.addEventListener("change", () => localStorage.setItem("aiflows.who", who.value.trim()));

  function parse(html) {
    const t = document.createElement("template");
    t.innerHTML = html;
    return t.content;
  }

  // Replace the cards whose status changed; keep a pending card someone is typing in.
  function mergeCards(box, html) {
    const fresh = parse(html);
    const incoming = Array.from(fresh.querySelectorAll("article.card"));
    if (!incoming.length) { box.replaceChildren(fresh); return; }
    const keep = new Map(Array.from(box.querySelectorAll("article.card")).map((c) => [c.dataset.request, c]));
    const next = incoming.map((card) => {
      const old = keep.get(card.dataset.request);
      if (old && old.dataset.status === card.dataset.status) return old;
      if (old && old.dataset.status === "pending" && !old.querySelector(".notice.good")) {
        const note = card.querySelector(".answered");
        if (note) note.classList.add("late");
      }
      return card;
    });
    box.replaceChildren(...next);
  }

  function apply(parts) {
    for (const [id, html] of Object.entries(parts)) {
      const box = document.getElementById(id);
      if (!box) continue;
      if (id === "live-requests") mergeCards(box, html); else box.replaceChildren(parse(html));
    }
  }

  function connect() {
    const page = document.body.dataset.live;
    if (!page) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws?page=${encodeURIComponent(page)}`);
    let opened = false;
    ws.onopen = () => { opened = true; conn.textContent = "live"; conn.className = "conn on"; };
    ws.onclose = () => {
      // Refused before opening: most often the server restarted with a new token.
      conn.textContent = opened ? "offline" : "offline (if this lasts, open the URL `aiflows ui` printed)";
      conn.className = "conn";
      setTimeout(connect, 1000);
    };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.parts) apply(msg.parts);
      if (msg.error) { conn.textContent = msg.error; }
    };
  }

  function valueOf(form, action) {
    const kind = form.dataset.kind;
    const data = new FormData(form);
    if (kind === "text") return { text: data.get("text") || "" };
    if (kind === "choice") return { choice: data.get("choice") || "" };
    if (kind === "approve") return { approved: action === "approve", comment: data.get("comment") || "" };
    return { value: data.get("value") || "" };
  }

  document.addEventListener("submit", async (ev) => {
    const form = ev.target.closest("form.answer");
    if (!form) return;
    ev.preventDefault();
    const action = ev.submitter ? ev.submitter.value : "send";
    const notice = form.querySelector(".notice");
    notice.textContent = "sending…";
    notice.className = "notice";
    const body = JSON.stringify({ value: valueOf(form, action), by: who.value.trim() || "web" });
    let reply;
    try {
      const res = await fetch(`/api/requests/${encodeURIComponent(form.dataset.request)}`,
        { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body });
      reply = await res.json();
    } catch (err) {
      notice.textContent = `could not send: ${err}`;
      notice.className = "notice bad";
      return;
    }
    if (reply.ok) {
      notice.textContent = "answer recorded";
      notice.className = "notice good";
      form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    } else {
      notice.textContent = `${reply.error}: ${reply.message}`;
      notice.className = "notice bad";
    }
  });

  connect();
})();
