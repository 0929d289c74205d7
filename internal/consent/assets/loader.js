/* Tillit cookie banner loader, policy version VERSION. Short-cached: it names the
   long-cached banner of the policy version in effect. Until that has loaded,
   window.tillitConsent answers from the choice stored for this version. */
(function () {
  var s = document.currentScript, base = s.src.replace(/[^\/]*$/, ''), d = document, q = [];
  if (!window.tillitConsent) {
    window.tillitConsent = {
      get: function (c) {
        if (c === 'necessary') return true;
        try {
          var v = JSON.parse(localStorage.getItem('tillit-consent'));
          return !!(v && v.v === VERSION && v.c[c] === true);
        } catch (e) { return false; }
      },
      onChange: function (f) { q.push(f); },
      open: function () { q.open = true; },
      _q: q
    };
  }
  var l = d.createElement('link'), j = d.createElement('script');
  j.src = base + 'v/banner.HASH.js';
  // The banner starts once its style sheet is in, so it never shows unstyled.
  l.onload = l.onerror = function () { d.head.appendChild(j); };
  l.rel = 'stylesheet';
  l.href = base + 'v/banner.HASH.css';
  d.head.appendChild(l);
})();
