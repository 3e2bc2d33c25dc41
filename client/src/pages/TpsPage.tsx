import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import type { CandidateInfo, FieldDetail, ReadingDetail, ResultVersion, RuleResult, TpsDetailResponse } from '../../../server/contract/index.js';
import { apiFetch, ApiError } from '../lib/api.js';
import { isTpsCode } from '../lib/areaCode.js';
import { formatDateTime, formatInt, formatPct } from '../lib/format.js';
import { useI18n } from '../lib/i18n.js';
import { useRoom } from '../lib/live.js';
import { ErrorBox } from './AreaPage.js';
import { changedFields } from '../lib/reading.js';

const BOX_LABELS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X', '·'];

function topK(p: number[], k = 3): { label: string; p: number }[] {
  return p
    .map((v, i) => ({ label: BOX_LABELS[i] ?? String(i), p: v }))
    .sort((a, b) => b.p - a.p)
    .slice(0, k);
}

/**
 * One digit box as the reader saw it, cut upright by the server from the stored original photo
 * (`GET /api/readings/:id/crops/:field.png?box=i`). The reader's box positions are in the
 * straightened page frame, so cutting them straight out of a tilted photo would show the wrong ink.
 */
function BoxCrop({ readingId, field, box }: { readingId: number; field: string; box: number }) {
  return <img className="box-crop" src={`/api/readings/${readingId}/crops/${encodeURIComponent(field)}.png?box=${box}`} alt="" aria-hidden="true" loading="lazy" data-testid="box-crop" />;
}

export function FieldRows({ reading, locale }: { reading: ReadingDetail; locale: string }) {
  const { t } = useI18n();
  const changed = changedFields(reading.changes);
  const fields = Object.entries(reading.fields).sort(([a], [b]) => a.localeCompare(b));
  if (!fields.length) return <p className="muted">{t('noData')}</p>;
  return (
    <table className="data-table" data-testid="reading-fields">
      <thead>
        <tr>
          <th>{t('field')}</th>
          <th className="num">{t('readValue')}</th>
          <th className="num">{t('probability')}</th>
          <th>{t('boxes')}</th>
        </tr>
      </thead>
      <tbody>
        {fields.map(([key, f]: [string, FieldDetail]) => {
          const isChanged = changed.has(key);
          return (
            <tr key={key} className={`field-row${isChanged ? ' changed' : ''}${f.p != null && f.p < 0.9 ? ' low' : ''}`} data-field={key}>
              <td>
                {key}
                {isChanged && (
                  <div className="muted" title={t('changedByDecoder')}>
                    ✎ {changed.get(key)}
                  </div>
                )}
              </td>
              <td className="num">
                <strong>{f.value == null ? '–' : formatInt(f.value, locale)}</strong>
              </td>
              <td className="num">{formatPct(f.p, locale, 1)}</td>
              <td>
                <div className="box-strip">
                  {(f.boxes ?? []).map((probs, i) => {
                    const top = topK(probs);
                    return (
                      <span key={i} className={`box${isChanged ? ' changed' : ''}`} title={top.map((x) => `${x.label}: ${formatPct(x.p, locale, 1)}`).join(', ')}>
                        {f.roi?.[i] && <BoxCrop readingId={reading.id} field={key} box={i} />}
                        <span className="top1">{top[0]?.label}</span>
                        {top.slice(0, 3).map((x) => (
                          <span key={x.label}>
                            {x.label} {formatPct(x.p, locale, 0)}
                          </span>
                        ))}
                      </span>
                    );
                  })}
                </div>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function Photo({ sub }: { sub: TpsDetailResponse['submissions'][number] }) {
  const { t, locale } = useI18n();
  return (
    <figure className="photo-box">
      <a href={sub.photoUrl} target="_blank" rel="noreferrer" title={t('openPhoto')}>
        <img
          src={sub.photoUrl}
          alt={`${t('photo')} ${sub.page ?? ''} #${sub.id}`}
          data-testid="tps-photo"
          loading="lazy"
        />
      </a>
      <figcaption className="muted">
        #{sub.id} · {t('page')}: {sub.page ?? sub.reading?.page ?? '–'} · {sub.status}
        {sub.reading ? ` · ${t('readingClass')}: ${sub.reading.cls}` : ''} · {t('receivedAt')} {formatDateTime(sub.receivedAt, locale)} · sha256 {sub.photoSha256.slice(0, 12)}…
      </figcaption>
    </figure>
  );
}

function RuleList({ rules }: { rules: RuleResult[] }) {
  const { t } = useI18n();
  return (
    <ul className="rules" data-testid="rules">
      {rules.length === 0 && <li className="muted">{t('noData')}</li>}
      {rules.map((r) => (
        <li key={r.rule} className={`rule ${r.status}`}>
          {r.rule} ({r.class}): {r.status}
          {r.status === 'FAIL' && ` Δ = ${r.delta > 0 ? '+' : ''}${r.delta} [${r.fields.join(', ')}]`}
          {r.status === 'UNKNOWN' && ` – ${r.missing.join(', ')}`}
        </li>
      ))}
    </ul>
  );
}

function diffFields(a: ResultVersion | undefined, b: ResultVersion): string[] {
  if (!a) return [];
  const keys = new Set([...Object.keys(a.values), ...Object.keys(b.values)]);
  return [...keys].filter((k) => a.values[k] !== b.values[k]).map((k) => `${k}: ${a.values[k] ?? '–'} → ${b.values[k] ?? '–'}`);
}

function candidateName(c: CandidateInfo, emptyLabel: string) {
  return c.isEmptyColumn ? emptyLabel : c.headName;
}

export function TpsPage() {
  const { code = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const { t, locale } = useI18n();
  const [detail, setDetail] = useState<TpsDetailResponse | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [nonce, setNonce] = useState(0);

  useEffect(() => {
    if (!isTpsCode(code)) return;
    let cancelled = false;
    apiFetch<TpsDetailResponse>(`/api/tps/${code}`)
      .then((d) => !cancelled && (setDetail(d), setError(null)))
      .catch((e) => !cancelled && setError(e as ApiError));
    return () => {
      cancelled = true;
    };
  }, [code, nonce]);

  const contestId = detail ? (detail.contests.find((c) => c.contestId === params.get('kontes'))?.contestId ?? detail.contests[0]?.contestId ?? null) : null;
  // Live: the desa room reports every state change of this TPS; refetch the evidence when it moves.
  const room = useRoom(contestId, detail?.tps.desaCode ?? null);
  const unitVersion = room?.children[code]?.version ?? room?.children[code]?.resultVersion;
  const seen = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (unitVersion === undefined) return;
    if (seen.current !== undefined && unitVersion !== seen.current) setNonce((n) => n + 1);
    seen.current = unitVersion;
  }, [unitVersion]);

  const contest = useMemo(() => detail?.contests.find((c) => c.contestId === contestId) ?? null, [detail, contestId]);

  if (!isTpsCode(code)) return <ErrorBox message={`"${code}": kode TPS harus 13 digit / a TPS code has 13 digits`} />;
  if (error && !detail) return <ErrorBox message={`${t('error')}: ${error.message}`} onRetry={() => setNonce((n) => n + 1)} />;
  if (!detail) return <p className="muted pad">{t('loading')}</p>;

  const subs = detail.submissions.filter((s) => !contestId || s.contestId === contestId);
  const cur = contest?.current ?? null;
  const desa = detail.path.at(-1);
  return (
    <div className="page tps-page" data-testid="tps-page">
      <nav className="breadcrumb" aria-label="breadcrumb">
        <ol>
          {detail.path.map((p) => (
            <li key={p.code}>
              <Link to={`/wilayah/${p.code}${contestId ? `?kontes=${contestId}` : ''}`}>{p.code === '00' ? t('national') : p.name}</Link>
            </li>
          ))}
          <li aria-current="page">{t('tpsTitle', { n: String(detail.tps.number).padStart(3, '0') })}</li>
        </ol>
      </nav>
      <h1 data-testid="tps-title">
        {t('tpsTitle', { n: String(detail.tps.number).padStart(3, '0') })} · {desa?.name}
      </h1>
      <p className="muted">
        {detail.tps.code} · {t('registeredLP', { l: formatInt(detail.tps.votersL, locale), p: formatInt(detail.tps.votersP, locale) })}
        {detail.tps.isSpecial ? ' · TPS khusus / special' : ''}
      </p>
      {detail.contests.length > 1 && (
        <div className="contest-tabs" role="tablist">
          {detail.contests.map((c) => (
            <button key={c.contestId} type="button" role="tab" aria-selected={c.contestId === contestId} onClick={() => setParams({ kontes: c.contestId }, { replace: true })}>
              {c.contestId}
            </button>
          ))}
        </div>
      )}
      <div className="tps-grid">
        <section>
          <h2>{t('photos')}</h2>
          {subs.length === 0 && <p className="muted">{t('noPhoto')}</p>}
          {subs.map((s) => (
            <Photo key={s.id} sub={s} />
          ))}
        </section>
        <section>
          <div className="card" data-testid="current-result">
            <h2>{t('currentResult')}</h2>
            {cur && contest ? (
              <>
                <p>
                  <span className={`status-pill ${cur.status}`}>{cur.status === 'published' ? t('published') : cur.status === 'quarantined' ? t('statusQuarantined') : t('pending')}</span> · {t('version')}{' '}
                  {cur.version} · {t('stage')}: {cur.stage} · {formatDateTime(cur.createdAt, locale)}
                </p>
                <table className="data-table">
                  <tbody>
                    {contest.candidates.map((c) => (
                      <tr key={c.id}>
                        <td>
                          <span className="swatch" style={{ background: c.colour }} />
                          {c.number}. {candidateName(c, t('emptyColumn'))}
                        </td>
                        <td className="num" data-testid={`tps-votes-${c.number}`}>{formatInt(cur.votes[c.id] ?? null, locale)}</td>
                      </tr>
                    ))}
                    <tr>
                      <td>{t('validVotes')}</td>
                      <td className="num" data-testid="tps-suara-sah">{formatInt(cur.suaraSah, locale)}</td>
                    </tr>
                    <tr>
                      <td>{t('invalidVotes')}</td>
                      <td className="num">{formatInt(cur.suaraTidakSah, locale)}</td>
                    </tr>
                  </tbody>
                </table>
                <h2>{t('rules')}</h2>
                <RuleList rules={cur.rules} />
              </>
            ) : (
              <p className="muted">{t('noResult')}</p>
            )}
          </div>
          {detail.anomalies.length > 0 && (
            <div className="card">
              <h2>{t('navAnomalies')}</h2>
              <ul>
                {detail.anomalies.map((a) => (
                  <li key={a.id}>
                    {a.rule} ({a.kind}) · {t('severity')} {formatInt(a.severity, locale)} · {a.status}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </section>
      </div>
      {subs.map((s) =>
        s.readings.map((r) => (
          <section key={r.id} className="card" data-testid="reading">
            <h2>
              {t('readValue')} #{r.id} · {t('page')} {r.page ?? '–'} · {r.cls} · {r.readerVersion}
            </h2>
            <p className="muted">
              {t('alignment')}: {r.alignmentScore == null ? '–' : r.alignmentScore.toFixed(2)}
              {r.identifiedBy === 'layout' && ` (${t('pageByLayout')})`} · {t('decoderChanges')}: {r.changes.length || t('noChanges')}
              {Object.keys(r.residuals).length > 0 && ` · ${t('residuals')}: ${Object.entries(r.residuals).map(([k, v]) => `${k} ${v > 0 ? '+' : ''}${v}`).join(', ')}`}
              {r.rejectReason ? ` · ${r.rejectReason}` : ''}
            </p>
            <FieldRows reading={r} locale={locale} />
          </section>
        )),
      )}
      {contest && contest.corrections.length > 0 && (
        <section className="card">
          <h2>{t('corrections')}</h2>
          <ul>
            {contest.corrections.map((c) => (
              <li key={c.id}>
                #{c.id} · {c.state} · {c.reason} · {t('proposedBy', { id: c.proposedBy })} {formatDateTime(c.proposedAt, locale)}
                {c.approvedBy != null && ` · ${t('approvedBy', { id: c.approvedBy })} ${formatDateTime(c.approvedAt, locale)}`}
              </li>
            ))}
          </ul>
        </section>
      )}
      <section className="card">
        <h2>{t('versions')}</h2>
        <table className="data-table" data-testid="versions">
          <thead>
            <tr>
              <th>{t('version')}</th>
              <th>{t('stage')}</th>
              <th>{t('status')}</th>
              <th className="num">{t('validVotes')}</th>
              <th>{t('time')}</th>
              <th>{t('createdBy')}</th>
              <th>{t('changedFields')}</th>
            </tr>
          </thead>
          <tbody>
            {(contest?.versions ?? [])
              .slice()
              .sort((a, b) => a.version - b.version)
              .map((v, i, all) => (
                <tr key={v.id} className={v.isCurrent ? 'leader' : ''}>
                  <td>
                    {v.version}
                    {v.isCurrent ? ' ✓' : ''}
                  </td>
                  <td>{v.stage}</td>
                  <td>{v.status}</td>
                  <td className="num">{formatInt(v.suaraSah, locale)}</td>
                  <td>{formatDateTime(v.createdAt, locale)}</td>
                  <td>{v.createdBy ?? '–'}</td>
                  <td>{diffFields(all[i - 1], v).join('; ') || '–'}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </section>
      <section className="card">
        <h2>{t('audit')}</h2>
        <table className="data-table" data-testid="audit">
          <thead>
            <tr>
              <th>#</th>
              <th>{t('time')}</th>
              <th>{t('actor')}</th>
              <th>{t('action')}</th>
              <th>{t('evidence')}</th>
              <th>{t('hash')}</th>
            </tr>
          </thead>
          <tbody>
            {detail.audit.map((a) => (
              <tr key={a.id}>
                <td>{a.id}</td>
                <td>{formatDateTime(a.at, locale)}</td>
                <td>
                  {a.actor}
                  {a.actorId != null ? ` (#${a.actorId})` : ''}
                </td>
                <td>
                  {a.action} · {a.entityId}
                </td>
                <td>{a.photoSha256 ? `foto ${a.photoSha256.slice(0, 10)}…` : '–'}</td>
                <td>
                  <code>{a.hash.slice(0, 10)}…</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
