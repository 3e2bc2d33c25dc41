import { useMemo, useState, type CSSProperties, type ReactNode } from 'react';
import { useSearchParams } from 'react-router-dom';
import { AreaMap } from '../components/AreaMap.js';
import { HoverCard } from '../components/HoverCard.js';
import { LiveBadge } from '../components/LiveBadge.js';
import { Standings } from '../components/Standings.js';
import { isAreaCode } from '../lib/areaCode.js';
import { useI18n } from '../lib/i18n.js';
import { recordPaint } from '../lib/perf.js';
import { fillFor } from '../lib/tally.js';
import { useAreaView } from '../lib/useAreaView.js';

/**
 * Embeds for media: no login, no navigation chrome, live through the same socket rooms as the
 * dashboard. Query: contest (or kontes), area (or wilayah), theme=light|dark, accent=#rrggbb, lang=id|en.
 */
function useEmbedParams() {
  const [params, setParams] = useSearchParams();
  const rawArea = (params.get('area') ?? params.get('wilayah') ?? '00').replace(/\./g, '');
  const area = isAreaCode(rawArea) ? rawArea : null;
  const contest = params.get('contest') ?? params.get('kontes');
  const theme = params.get('theme') === 'dark' ? 'dark' : 'light';
  const accent = /^#[0-9a-fA-F]{6}$/.test(params.get('accent') ?? '') ? params.get('accent')! : null;
  return { area, rawArea, contest, theme, accent, params, setParams };
}

function Frame({ theme, accent, children, testid }: { theme: string; accent: string | null; children: ReactNode; testid: string }) {
  const style = accent ? ({ '--accent': accent } as CSSProperties) : undefined;
  return (
    <div className={`embed ${theme}`} style={style} data-testid={testid}>
      {children}
    </div>
  );
}

function Footer({ area, contest }: { area: string; contest: string | null }) {
  const { t } = useI18n();
  const href = `${location.origin}/wilayah/${area}${contest ? `?kontes=${contest}` : ''}`;
  return (
    <div className="embed-foot">
      <a href={href} target="_blank" rel="noreferrer">
        rekap
      </a>{' '}
      · {t('fromPhotos')}
    </div>
  );
}

function BadArea({ raw }: { raw: string }) {
  return <p className="pad">"{raw}": kode wilayah tidak dikenal / not an area code</p>;
}

export function EmbedScoreboard() {
  const p = useEmbedParams();
  const { t } = useI18n();
  const view = useAreaView(p.area ?? '00', p.contest);
  if (!p.area) return <BadArea raw={p.rawArea} />;
  const { area, tally, error } = view;
  return (
    <Frame theme={p.theme} accent={p.accent} testid="embed-scoreboard">
      <div className="embed-head">
        <span className="title">
          {area ? (area.area.level === 0 ? t('national') : area.area.name) : t('loading')}
          {tally ? ` · ${t(tally.contestType)}` : ''}
        </span>
        <LiveBadge />
      </div>
      <div className="embed-body">
        {error && !area && <p role="alert">{error.message}</p>}
        {tally ? (
          <Standings tally={tally} compact />
        ) : area ? (
          <p className="muted">{t('perProvinceHelp')}</p>
        ) : null}
      </div>
      <Footer area={p.area} contest={view.contestId} />
    </Frame>
  );
}

export function EmbedMap() {
  const p = useEmbedParams();
  const { t } = useI18n();
  const view = useAreaView(p.area ?? '00', p.contest);
  const [hovered, setHovered] = useState<string | null>(null);
  const { area, shapes, outline, childTallies, tally } = view;
  const fills = useMemo(() => {
    const out: Record<string, string> = {};
    for (const c of area?.children ?? []) out[c.code] = fillFor('leader', childTallies[c.code]);
    return out;
  }, [area, childTallies]);
  if (!p.area) return <BadArea raw={p.rawArea} />;
  return (
    <Frame theme={p.theme} accent={p.accent} testid="embed-map">
      <div className="embed-head">
        <span className="title">
          {area ? (area.area.level === 0 ? t('national') : area.area.name) : t('loading')}
          {tally ? ` · ${t('progress', { x: tally.tpsPublished, y: tally.tpsExpected, z: tally.tpsExpected ? `${Math.round((100 * tally.tpsPublished) / tally.tpsExpected)}%` : '–' })}` : ''}
        </span>
        <LiveBadge />
      </div>
      <div className="map-wrap">
        {area && (
          <AreaMap
            areaCode={area.area.code}
            shapes={shapes}
            outline={outline}
            children={area.children}
            fills={fills}
            selected={hovered}
            onHover={setHovered}
            onSelect={(c) => p.setParams((q) => (q.set('area', c), q.delete('wilayah'), q), { replace: false })}
            onPainted={recordPaint}
          />
        )}
        <HoverCard name={hovered ? (area?.children.find((c) => c.code === hovered)?.name ?? null) : null} tally={hovered ? childTallies[hovered] : undefined} />
      </div>
      <Footer area={p.area} contest={view.contestId} />
    </Frame>
  );
}
