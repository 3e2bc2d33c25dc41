import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { App } from './App.js';
import { I18nProvider } from './lib/i18n.js';
import './styles.css';
import { fetchArea } from './lib/api.js';
import { isAreaCode, levelOf } from './lib/areaCode.js';
import { childShapes } from './lib/geo.js';

// Start the first area's data and boundaries now, in parallel with React's first render: the map's
// first paint waits on both. The promises are cached, so the page's own requests reuse them.
{
  const m = /^\/(?:wilayah|area)\/([\d.]+)\/?$/.exec(location.pathname) ?? (location.pathname === '/' ? [null, '00'] : null);
  const code = m?.[1]?.replace(/\./g, '');
  if (code && isAreaCode(code)) {
    void fetchArea(code).catch(() => undefined);
    void childShapes(levelOf(code), code);
  }
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <I18nProvider>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </I18nProvider>
  </StrictMode>,
);
