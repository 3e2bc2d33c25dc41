import { useCallback, useMemo, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { AreaMap } from '../components/AreaMap.js';
import { Breadcrumb } from '../components/Breadcrumb.js';
import { ChildTable } from '../components/ChildTable.js';
import { EmbedSnippet } from '../components/EmbedSnippet.js';
import { HoverCard } from '../components/HoverCard.js';
import { Legend } from '../components/Legend.js';
import { MissingTps } from '../components/MissingTps.js';
import { Standings } from '../components/Standings.js';
import { TpsList } from '../components/TpsList.js';
import { isAreaCode, levelOf } from '../lib/areaCode.js';
import { fetchArea } from '../lib/api.js';
import { prefetchChildShapes } from '../lib/geo.js';
import { useI18n, type TextKey } from '../lib/i18n.js';
import { markDrillStart, recordPaint } from '../lib/perf.js';
import { COLOUR_MODES, fillFor, type ColourMode } from '../lib/tally.js';
import { useAnomalyCounts } from '../lib/anomalies.js';
import { useAreaView } from '../lib/useAreaView.js';
import { useClientConfig } from '../lib/config.js';

const MODE_LABEL: Record<ColourMode, TextKey> = { leader: 'modeLeader', margin: 'modeMargin', progress: 'modeProgress', turnout: 'modeTurnout', anomalies: 'modeAnomalies' };

export function AreaPage() {
  const { code: rawCode = '00' } = useParams();
  const code = rawCode.replace(/\./g, '');
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const { t } = useI18n();
  const requestedContest = params.get('kontes');
  const practice = params.get('latihan') === '1';
  const mode = (COLOUR_MODES as string[]).includes(params.get('warna') ?? '') ? (params.get('warna') as ColourMode) : 'leader';
  const [firstPaintDone, setFirstPaintDone] = useState(false);
  const view = useAreaView(isAreaCode(code) ? code : '00', requestedContest, { deferRoomsUntil: firstPaintDone, practice });
  const { area, shapes, outline, tally, childTallies, tpsUnits, contestId, error } = view;
  const [hovered, setHoveredState] = useState<string | null>(null);
  // Hovering an area (or the first tap on a phone) starts loading what clicking it will show.
  const setHovered = useCallback(
    (c: string | null) => {
      setHoveredState(c);
      if (c && isAreaCode(c) && levelOf(c) < 4) {
        void fetchArea(c, { practice }).catch(() => undefined);
        prefetchChildShapes(levelOf(c), c);
      }
    },
    [practice],
  );
  const anomalyCounts = useAnomalyCounts(area?.area.code ?? null, area?.children.map((c) => c.code) ?? [], mode === 'anomalies');
  const config = useClientConfig();

  const search = useMemo(() => {
    const q = new URLSearchParams();
    if (practice) q.set('latihan', '1');
    if (contestId) q.set('kontes', contestId);
    if (mode !== 'leader') q.set('warna', mode);
    const s = q.toString();
    return s ? `?${s}` : '';
  }, [contestId, mode, practice]);

  const fills = useMemo(() => {
    const out: Record<string, string> = {};
    for (const c of area?.children ?? []) out[c.code] = fillFor(mode, childTallies[c.code], anomalyCounts[c.code] ?? 0);
    return out;
  }, [area, childTallies, mode, anomalyCounts]);

  if (!isAreaCode(code)) return <ErrorBox message={`"${rawCode}": kode wilayah tidak dikenal / not an area code`} />;
  if (error && !area) return <ErrorBox message={`${t('error')}: ${error.message}`} onRetry={view.reload} />;

  const hoveredChild = hovered ? area?.children.find((c) => c.code === hovered) : undefined;
  // Per-province colouring has a different paslon in every province: the legend then names none.
  const candidates = tally?.candidates ?? [];

  return (
    <div className={`area-page${practice ? ' practice' : ''}`} data-testid="area-page" data-area={area?.area.code ?? ''}>
      {practice && <PracticeBanner code={area?.area.code ?? code} />}
      <section className="map-pane">
        <div className="map-toolbar">
          <label>
            {t('colourBy')}{' '}
            <select value={mode} onChange={(e) => setParams((p) => (e.target.value === 'leader' ? p.delete('warna') : p.set('warna', e.target.value), p), { replace: true })} data-testid="mode">
              {COLOUR_MODES.map((m) => (
                <option key={m} value={m}>
                  {t(MODE_LABEL[m])}
                </option>
              ))}
            </select>
          </label>
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
              tileUrl={config.tileUrl}
              onHover={setHovered}
              onSelect={(c) => {
                markDrillStart();
                navigate(`/wilayah/${c}${search}`);
              }}
              onPainted={(c) => {
                recordPaint(c);
                setFirstPaintDone(true);
              }}
            />
          )}
          <HoverCard name={hoveredChild?.name ?? null} tally={hovered ? childTallies[hovered] : undefined} anomalies={hovered ? anomalyCounts[hovered] : 0} />
        </div>
        <Legend mode={mode} candidates={candidates} />
      </section>

      <section className="panel">
        {area ? (
          <>
            <Breadcrumb path={area.path} current={area.area} search={search} />
            <h1 data-testid="area-name">{area.area.level === 0 ? t('national') : area.area.name}</h1>
            {area.tallies.length > 0 && area.tallies.length <= 3 && (
              <div className="contest-tabs" role="tablist" aria-label={t('contest')}>
                {area.tallies.map((x) => (
                  <button
                    key={x.contestId}
                    type="button"
                    role="tab"
                    data-contest={x.contestId}
                    aria-selected={x.contestId === contestId}
                    onClick={() => setParams((p) => (p.set('kontes', x.contestId), p), { replace: true })}
                  >
                    {t(x.contestType)} · {x.contestName}
                  </button>
                ))}
              </div>
            )}
            {area.tallies.length > 3 && (
              <label className="contest-select">
                {t('contest')}{' '}
                <select
                  value={contestId ?? ''}
                  data-testid="contest-select"
                  onChange={(e) => setParams((p) => (e.target.value ? p.set('kontes', e.target.value) : p.delete('kontes'), p), { replace: true })}
                >
                  {area.area.level === 0 && <option value="">{t('perProvince')}</option>}
                  {area.tallies.map((x) => (
                    <option key={x.contestId} value={x.contestId}>
                      {x.contestName}
                    </option>
                  ))}
                </select>
              </label>
            )}
            {tally ? (
              <Standings tally={tally} />
            ) : area.area.level === 0 ? (
              <p className="muted">{t('perProvinceHelp')}</p>
            ) : null}
            {area.children.length > 0 ? (
              <>
                <h2>{t('children')}</h2>
                <ChildTable items={area.children} tallies={childTallies} search={search} onHover={setHovered} />
              </>
            ) : area.area.level === 4 ? (
              <TpsList units={tpsUnits} tallies={childTallies} contestId={contestId} />
            ) : null}
            {contestId && area.area.level >= 1 && <MissingTps areaCode={area.area.code} contestId={contestId} version={tally?.version ?? 0} search={search} />}
            <EmbedSnippet area={area.area.code} contest={contestId} />
            <p className="credits muted">
              {t('fromPhotos')}. {t('dataCredits')}
            </p>
          </>
        ) : (
          <p className="muted">{t('loading')}</p>
        )}
      </section>
    </div>
  );
}

/** Always on top of a practice view: nobody may mistake rehearsal numbers for results. */
function PracticeBanner({ code }: { code: string }) {
  const { t } = useI18n();
  return (
    <div className="practice-banner" role="status" data-testid="practice-banner">
      <strong>{t('practiceBanner')}</strong>
      <Link to={`/wilayah/${code}`}>{t('practiceExit')}</Link>
    </div>
  );
}

export function ErrorBox({ message, onRetry }: { message: string; onRetry?(): void }) {
  const { t } = useI18n();
  return (
    <div className="error-box" role="alert">
      <p>{message}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t('retry')}
        </button>
      )}
      <p>
        <Link to="/wilayah/00">{t('backToMap')}</Link>
      </p>
    </div>
  );
}
