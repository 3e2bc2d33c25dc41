import { lazy, Suspense, useEffect } from 'react';
import { Link, Navigate, NavLink, Route, Routes, useLocation } from 'react-router-dom';
import { LiveBadge } from './components/LiveBadge.js';
import { useI18n } from './lib/i18n.js';
import { AreaPage } from './pages/AreaPage.js';

// Screens other than the map load on demand: the map's first paint should not wait for them.
const TpsPage = lazy(() => import('./pages/TpsPage.js').then((m) => ({ default: m.TpsPage })));
const ReviewPage = lazy(() => import('./pages/ReviewPage.js').then((m) => ({ default: m.ReviewPage })));
const AnomaliesPage = lazy(() => import('./pages/AnomaliesPage.js').then((m) => ({ default: m.AnomaliesPage })));
const CapturePage = lazy(() => import('./capture/CapturePage.js').then((m) => ({ default: m.CapturePage })));
const EmbedMap = lazy(() => import('./pages/Embeds.js').then((m) => ({ default: m.EmbedMap })));
const EmbedScoreboard = lazy(() => import('./pages/Embeds.js').then((m) => ({ default: m.EmbedScoreboard })));

export function App() {
  const { pathname } = useLocation();
  if (pathname.startsWith('/embed/')) {
    return (
      <Suspense fallback={null}>
        <Routes>
          <Route path="/embed/map" element={<EmbedMap />} />
          <Route path="/embed/scoreboard" element={<EmbedScoreboard />} />
          <Route path="*" element={<p>embed: /embed/map · /embed/scoreboard</p>} />
        </Routes>
      </Suspense>
    );
  }
  return (
    <div className="shell">
      <Header />
      <main>
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/" element={<Navigate to="/wilayah/00" replace />} />
            <Route path="/wilayah" element={<Navigate to="/wilayah/00" replace />} />
            <Route path="/wilayah/:code" element={<AreaPage />} />
            {/* English aliases for shared links. */}
            <Route path="/area/:code" element={<AreaPage />} />
            <Route path="/tps/:code" element={<TpsPage />} />
            <Route path="/tinjau" element={<ReviewPage />} />
            <Route path="/review" element={<ReviewPage />} />
            <Route path="/anomali" element={<AnomaliesPage />} />
            <Route path="/anomalies" element={<AnomaliesPage />} />
            <Route path="/kpps" element={<CapturePage />} />
            <Route path="/capture" element={<CapturePage />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
    </div>
  );
}

function Loading() {
  const { t } = useI18n();
  return <p className="muted pad">{t('loading')}</p>;
}

function NotFound() {
  const { t } = useI18n();
  return (
    <div className="error-box" role="alert">
      <p>{t('notFound')}</p>
      <Link to="/wilayah/00">{t('backToMap')}</Link>
    </div>
  );
}

function Header() {
  const { t, lang, setLang } = useI18n();
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  return (
    <header className="top">
      <Link to="/wilayah/00" className="brand">
        rekap<span className="tagline">{t('tagline')}</span>
      </Link>
      <nav className="main-nav">
        <NavLink to="/wilayah/00">{t('navMap')}</NavLink>
        <NavLink to="/tinjau">{t('navReview')}</NavLink>
        <NavLink to="/anomali">{t('navAnomalies')}</NavLink>
        <Link to="/wilayah/00?latihan=1" className="nav-practice" data-testid="nav-practice">
          {t('navPractice')}
        </Link>
      </nav>
      <LiveBadge />
      <button type="button" className="lang" data-testid="lang-switch" onClick={() => setLang(lang === 'id' ? 'en' : 'id')}>
        {t('langSwitch')}
      </button>
    </header>
  );
}
