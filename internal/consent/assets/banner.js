/* Tillit cookie banner (REQUIREMENTS C1). No framework, no third-party requests:
   the only request it makes is the receipt to the Tillit server it came from.
   C is the configuration of one published policy version: the version, the
   categories with their cookies, and the texts in sv, da, nb and en. */
(function (C, script) {
  'use strict';
  var KEY = 'tillit-consent', VKEY = 'tillit-visitor';
  var OPTIONAL = ['preferences', 'statistics', 'marketing'];
  var endpoint = new URL('../consent', script.src).href; // the banner lives in /cookies/v/
  var gpc = navigator.globalPrivacyControl === true;
  var lang = pickLang(navigator.languages || [navigator.language || '']);
  var T = C.t[lang];
  var offered = C.cats.map(function (c) { return c.id; }).filter(function (id) { return id !== 'necessary'; });
  var stub = window.tillitConsent || {};
  var listeners = stub._q ? stub._q.slice() : [];
  var state = load();
  var dialog, opener;

  function pickLang(list) {
    for (var i = 0; i < list.length; i++) {
      var l = String(list[i]).toLowerCase().split('-')[0];
      if (l === 'no' || l === 'nn') l = 'nb';
      if (C.t[l]) return l;
    }
    return C.lang;
  }

  function load() {
    try {
      var s = JSON.parse(localStorage.getItem(KEY));
      return s && s.v === C.v ? s : null; // a new policy version asks again
    } catch (e) { return null; }
  }

  function visitor() {
    var id;
    try { id = localStorage.getItem(VKEY); } catch (e) { /* storage off */ }
    if (!/^[0-9a-f]{32}$/.test(id || '')) {
      var b = new Uint8Array(16);
      crypto.getRandomValues(b);
      id = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
      try { localStorage.setItem(VKEY, id); } catch (e) { /* storage off */ }
    }
    return id;
  }

  // decide turns a button into choices. With Global Privacy Control, "Accept all"
  // leaves statistics and marketing off; only ticking them yourself turns them on.
  function decide(action, ticked) {
    var c = {};
    OPTIONAL.forEach(function (id) {
      var on = offered.indexOf(id) >= 0;
      if (action === 'reject') on = false;
      else if (action === 'accept') on = on && !(gpc && id !== 'preferences');
      else on = on && !!ticked[id];
      c[id] = on;
    });
    return c;
  }

  function choose(action) {
    var ticked = {};
    dialog.querySelectorAll('input[type=checkbox]').forEach(function (i) { ticked[i.value] = i.checked; });
    var c = decide(action, ticked);
    state = { v: C.v, c: c, gpc: gpc };
    try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* storage off */ }
    close();
    fetch(endpoint, {
      method: 'POST', mode: 'cors', credentials: 'omit', keepalive: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ visitor_id: visitor(), policy_version: C.v, choices: c, gpc: gpc, lang: lang })
    }).catch(function () { /* the choice still holds locally */ });
    notify();
  }

  function notify() {
    var c = Object.assign({ necessary: true }, state.c);
    listeners.forEach(function (f) { try { f(c); } catch (e) { setTimeout(function () { throw e; }); } });
  }

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    (kids || []).forEach(function (k) { e.append(k); });
    return e;
  }

  function table(cat) {
    var head = el('tr', {}, ['cookie', 'provider', 'lifetime', 'purpose'].map(function (k) { return el('th', { scope: 'col' }, [T[k]]); }));
    var rows = cat.cookies.map(function (k) {
      return el('tr', {}, [k.n, k.p, k.l[lang], k.u[lang]].map(function (s) { return el('td', {}, [s || '']); }));
    });
    return el('details', {}, [el('summary', {}, [T.cookies + ' (' + cat.cookies.length + ')']), el('table', {}, [head].concat(rows))]);
  }

  function build() {
    var cats = C.cats.map(function (cat) {
      var id = 'tcb-' + cat.id, control;
      if (cat.id === 'necessary') {
        control = el('span', { class: 'tcb-always' }, [T.necessary + ' — ' + T.always]);
      } else {
        var box = el('input', { type: 'checkbox', id: id, name: 'tcb-cat', value: cat.id });
        control = el('label', { for: id }, [box, ' ' + T[cat.id]]);
      }
      var kids = [control, el('p', {}, [T[cat.id + '_d']])];
      if (cat.cookies.length) kids.push(table(cat));
      return el('div', { class: 'tcb-cat' }, kids);
    });
    var buttons = ['reject', 'accept', 'save'].map(function (a) {
      var b = el('button', { type: 'button', class: 'tcb-btn', 'data-action': a }, [T[a]]);
      b.addEventListener('click', function () { choose(a); });
      return b;
    });
    var body = [el('h2', { id: 'tcb-title' }, [T.title]), el('p', { id: 'tcb-intro' }, [T.intro])];
    if (gpc) body.push(el('p', { class: 'tcb-gpc' }, [T.gpc]));
    dialog = el('div', {
      id: 'tillit-consent', class: 'tcb', role: 'dialog', 'aria-modal': 'false',
      'aria-labelledby': 'tcb-title', 'aria-describedby': 'tcb-intro', tabindex: '-1', lang: lang, hidden: ''
    }, body.concat(cats, [el('div', { class: 'tcb-buttons' }, buttons)]));
    dialog.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && state) close(); // the first time, a choice is needed
    });
    opener = el('button', { type: 'button', class: 'tcb-open', 'aria-haspopup': 'dialog', lang: lang, hidden: '' }, [T.settings]);
    opener.addEventListener('click', open);
    document.body.append(dialog, opener);
  }

  function open() {
    // Nothing is pre-ticked: the boxes show the visitor's own stored choice, if any.
    dialog.querySelectorAll('input[type=checkbox]').forEach(function (i) {
      i.checked = !!(state && state.c[i.value]);
    });
    dialog.hidden = false;
    opener.hidden = true;
    dialog.focus();
  }

  function close() {
    dialog.hidden = true;
    opener.hidden = false;
    if (document.activeElement === document.body || dialog.contains(document.activeElement)) opener.focus();
  }

  function start() {
    build();
    if (!state && offered.length) open();
    else opener.hidden = false;
    if (state) notify();
    if (stub._q && stub._q.open) open();
  }

  window.tillitConsent = {
    version: C.v,
    get: function (cat) { return cat === 'necessary' || !!(state && state.c[cat] === true); },
    onChange: function (fn) { listeners.push(fn); if (state) fn(Object.assign({ necessary: true }, state.c)); },
    open: function () { if (dialog) open(); }
  };
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})(/*CONFIG*/null, document.currentScript);
