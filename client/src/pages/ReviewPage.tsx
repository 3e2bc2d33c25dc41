import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import type { CorrectionResponse, ReviewQueueItem, ReviewQueueResponse, TpsDetailResponse } from '../../../server/contract/index.js';
import { TokenBox } from '../components/TokenBox.js';
import { apiFetch, ApiError, getToken } from '../lib/api.js';
import { formatDateTime, formatInt } from '../lib/format.js';
import { useI18n } from '../lib/i18n.js';
import { useOpsEvents, useRooms } from '../lib/live.js';
import { FieldRows, Photo } from './TpsPage.js';

const isTyping = (e: KeyboardEvent) => {
  const el = e.target as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
};

/** Values the person starts from: the newest reading of each page, then the current result on top of nothing read. */
export function startingValues(detail: TpsDetailResponse, contestId: string): Record<string, number> {
  const out: Record<string, number> = {};
  const current = detail.contests.find((c) => c.contestId === contestId)?.current;
  if (current) Object.assign(out, current.values);
  const newestByPage = new Map<string, Record<string, number>>();
  for (const s of detail.submissions.filter((x) => x.contestId === contestId)) {
    for (const r of s.readings) newestByPage.set(r.page ?? s.page ?? String(s.id), r.values);
  }
  for (const v of newestByPage.values()) Object.assign(out, v);
  return out;
}

/**
 * Review queue for KPU operators and reviewers: forms the reader could not settle (NEEDS_REVIEW,
 * FORM_INCONSISTENT) and quarantined TPS, largest vote impact first. Keyboard: J/K or ↑/↓ move,
 * E edits, Enter confirms the reading as is, Ctrl+Enter saves a correction, A approves the pending
 * correction of another person (two-person rule, enforced by the server).
 */
export function ReviewPage() {
  const { t, locale } = useI18n();
  const [params] = useSearchParams();
  const area = params.get('area') ?? params.get('wilayah') ?? '';
  const contest = params.get('kontes') ?? params.get('contest') ?? '';
  const [authNonce, setAuthNonce] = useState(0);
  const [items, setItems] = useState<ReviewQueueItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [index, setIndex] = useState(0);
  const [detail, setDetail] = useState<TpsDetailResponse | null>(null);
  const [values, setValues] = useState<Record<string, number>>({});
  const [base, setBase] = useState<Record<string, number>>({});
  const [reason, setReason] = useState('');
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | null>(null);
  const [nonce, setNonce] = useState(0);
  const firstInput = useRef<HTMLInputElement>(null);
  const hasToken = !!getToken();

  useEffect(() => {
    if (!hasToken) return;
    const q = new URLSearchParams();
    if (area) q.set('area', area);
    if (contest) q.set('contest', contest);
    apiFetch<ReviewQueueResponse>(`/api/review-queue?${q}`)
      .then((r) => {
        setItems([...r.items].sort((a, b) => b.impact - a.impact));
        setError(null);
      })
      .catch((e: ApiError) => setError(e.message));
  }, [area, contest, hasToken, authNonce, nonce]);

  const item = items?.[Math.min(index, (items?.length ?? 1) - 1)] ?? null;

  useEffect(() => {
    setDetail(null);
    if (!item) return;
    let cancelled = false;
    apiFetch<TpsDetailResponse>(`/api/tps/${item.tpsCode}?contest=${encodeURIComponent(item.contestId)}`)
      .then((d) => {
        if (cancelled) return;
        setDetail(d);
        const v = startingValues(d, item.contestId);
        setValues(v);
        setBase(v);
      })
      .catch((e: ApiError) => !cancelled && setNotice({ text: e.message, error: true }));
    return () => {
      cancelled = true;
    };
  }, [item?.tpsCode, item?.contestId, nonce]); // eslint-disable-line react-hooks/exhaustive-deps

  // The queue is live: any change under the areas of listed items refreshes it (no polling).
  const rooms = useRooms(useMemo(() => [...new Set((items ?? []).map((i) => `${i.contestId}|${i.tpsCode.slice(0, 4)}`))].map((k) => ({ contest: k.split('|')[0], area: k.split('|')[1] })), [items]));
  const versionKey = Object.values(rooms).map((r) => r?.version ?? 0).join(',');
  const lastKey = useRef(versionKey);
  useEffect(() => {
    if (lastKey.current && versionKey !== lastKey.current && !versionKey.split(',').every((v) => v === '0')) setNonce((n) => n + 1);
    lastKey.current = versionKey;
  }, [versionKey]);

  // New quarantines anywhere in the officer's area arrive on the operator room (`#ops/<area>`): the
  // queue refreshes at once, even for TPS whose area is not in the list yet.
  const [scope, setScope] = useState<string | null>(null);
  useEffect(() => {
    if (!hasToken || area) return;
    apiFetch<{ user: { scope: string | null } }>('/api/auth/me')
      .then((me) => setScope(me.user.scope || '00'))
      .catch(() => setScope(null));
  }, [hasToken, area, authNonce]);
  useOpsEvents(
    area || scope,
    hasToken ? getToken() : null,
    (e) => {
      if (contest && e.contestId !== contest) return;
      setNotice({ text: t('newQuarantine', { tps: e.tpsCode }) });
      setNonce((n) => n + 1);
    },
  );

  const contestDetail = detail?.contests.find((c) => c.contestId === item?.contestId) ?? null;
  const pending = contestDetail?.corrections.filter((c) => c.state === 'pending') ?? [];
  const dirty = Object.keys(values).some((k) => values[k] !== base[k]);

  const submit = useCallback(
    async (asConfirm: boolean) => {
      if (!item || !detail) return;
      const why = reason.trim() || (asConfirm ? t('confirmReason') : '');
      if (why.length < 3) {
        setNotice({ text: `${t('reason')}?`, error: true });
        return;
      }
      try {
        const body = { values: asConfirm ? base : values, reason: why, stage: 'reviewer' as const, ...(contestDetail?.current ? { baseVersion: contestDetail.current.version } : {}) };
        const r = await apiFetch<CorrectionResponse>(`/api/tps/${item.tpsCode}/${item.contestId}/corrections`, { method: 'POST', body: JSON.stringify(body) });
        setNotice({ text: t('submitted', { id: r.correction.id, state: r.correction.state === 'pending' ? t('awaitingApproval') : r.correction.state }) });
        setReason('');
        setNonce((n) => n + 1);
      } catch (e) {
        setNotice({ text: (e as Error).message, error: true });
      }
    },
    [item, detail, reason, values, base, contestDetail, t],
  );

  const approve = useCallback(async () => {
    const c = pending[0];
    if (!c) return;
    try {
      const r = await apiFetch<CorrectionResponse>(`/api/corrections/${c.id}/approve`, { method: 'POST', body: '{}' });
      setNotice({ text: t('approved', { id: r.correction.id }) });
      setNonce((n) => n + 1);
    } catch (e) {
      setNotice({ text: (e as Error).message, error: true });
    }
  }, [pending, t]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        void submit(false);
        return;
      }
      if (isTyping(e) || e.altKey || e.ctrlKey || e.metaKey) return;
      const n = items?.length ?? 0;
      if (e.key === 'j' || e.key === 'ArrowDown') {
        e.preventDefault();
        setIndex((i) => Math.min(n - 1, i + 1));
      } else if (e.key === 'k' || e.key === 'ArrowUp') {
        e.preventDefault();
        setIndex((i) => Math.max(0, i - 1));
      } else if (e.key === 'e') {
        e.preventDefault();
        firstInput.current?.focus();
      } else if (e.key === 'Enter') {
        e.preventDefault();
        void submit(!dirty);
      } else if (e.key === 'a') {
        e.preventDefault();
        void approve();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [items, submit, approve, dirty]);

  const fieldKeys = Object.keys(values).sort((a, b) => {
    const rank = (k: string) => (k.startsWith('suara_paslon_') ? 0 : k.startsWith('suara_') ? 1 : 2);
    return rank(a) - rank(b) || a.localeCompare(b, 'en', { numeric: true });
  });
  const subs = detail?.submissions.filter((s) => s.contestId === item?.contestId) ?? [];
  const reading = subs.flatMap((s) => s.readings.map((r) => ({ s, r }))).find((x) => x.r.id === item?.readingId) ?? subs.flatMap((s) => s.readings.map((r) => ({ s, r }))).at(-1);

  return (
    <div className="page review-page" data-testid="review-page">
      <h1>{t('navReview')}</h1>
      <p className="muted">{t('reviewHelp')}</p>
      <TokenBox onChange={() => setAuthNonce((n) => n + 1)} />
      {error && <div className="notice error">{error}</div>}
      {notice && (
        <div className={`notice${notice.error ? ' error' : ''}`} role="status" data-testid="review-notice">
          {notice.text}
        </div>
      )}
      {hasToken && items && items.length === 0 && <p className="muted" data-testid="queue-empty">{t('queueEmpty')}</p>}
      {hasToken && items && items.length > 0 && (
        <div className="queue">
          <ul className="queue-list" role="listbox" aria-label={t('navReview')} data-testid="queue">
            {items.map((it, i) => (
              <li key={`${it.tpsCode}|${it.contestId}`} role="option" aria-selected={it === item} data-tps={it.tpsCode} onClick={() => setIndex(i)}>
                <strong>{it.tpsCode}</strong> · {it.contestId}
                <br />
                <span className={`status-pill ${it.reason === 'quarantined' ? 'quarantined' : ''}`}>{it.reason === 'quarantined' ? t('statusQuarantined') : it.reason === 'NEEDS_REVIEW' ? t('reasonNeedsReview') : t('reasonInconsistent')}</span> {t('impact')}: {formatInt(it.impact, locale)}
                <br />
                <small className="muted">{formatDateTime(it.since, locale)}</small>
              </li>
            ))}
          </ul>
          <section>
            {!item || !detail ? (
              <p className="muted">{item ? t('loading') : t('selectItem')}</p>
            ) : (
              <>
                <h2>
                  <Link to={`/tps/${item.tpsCode}?kontes=${item.contestId}`}>{item.tpsCode}</Link> · {detail.path.at(-1)?.name} · {item.contestId}
                </h2>
                {item.failingRules.length > 0 && (
                  <p className="rule FAIL">
                    {t('failingRules')}: {item.failingRules.map((r) => `${r.rule}${r.delta != null ? ` (Δ ${r.delta})` : ''}`).join(', ')}
                  </p>
                )}
                <div className="tps-grid">
                  <div>{reading && <Photo sub={reading.s} />}</div>
                  <form
                    className="card"
                    onSubmit={(e) => {
                      e.preventDefault();
                      void submit(false);
                    }}
                  >
                    <div className="edit-grid" data-testid="edit-grid">
                      {fieldKeys.map((k, i) => (
                        <label key={k} style={{ display: 'contents' }}>
                          <span>{k}</span>
                          <input
                            ref={i === 0 ? firstInput : undefined}
                            inputMode="numeric"
                            name={k}
                            data-field={k}
                            className={values[k] !== base[k] ? 'dirty' : ''}
                            value={Number.isFinite(values[k]) ? String(values[k]) : ''}
                            onChange={(e) => {
                              const v = e.target.value.replace(/\D/g, '');
                              setValues((old) => ({ ...old, [k]: v === '' ? NaN : Math.min(99_999, Number(v)) }));
                            }}
                          />
                          <span className="muted">{base[k] !== values[k] ? `${t('readValue')}: ${base[k] ?? '–'}` : ''}</span>
                        </label>
                      ))}
                    </div>
                    <label>
                      {t('reviewReason')}{' '}
                      <input value={reason} onChange={(e) => setReason(e.target.value)} placeholder={t('reasonPlaceholder')} data-testid="reason" style={{ width: '100%' }} />
                    </label>
                    <div className="seg" style={{ marginTop: '0.6rem' }}>
                      <button type="button" onClick={() => void submit(true)} disabled={dirty} data-testid="confirm">
                        {t('confirm')} (Enter)
                      </button>
                      <button type="submit" disabled={!dirty || Object.values(values).some((v) => !Number.isFinite(v))} data-testid="correct">
                        {t('correct')} (Ctrl+Enter)
                      </button>
                    </div>
                  </form>
                </div>
                {pending.length > 0 && (
                  <div className="card" data-testid="pending">
                    <h2>{t('pendingCorrections')}</h2>
                    {pending.map((c) => (
                      <p key={c.id}>
                        #{c.id} · {c.reason} · {t('proposedBy', { id: c.proposedBy })} · {formatDateTime(c.proposedAt, locale)}{' '}
                        <button type="button" onClick={() => void approve()} data-testid="approve">
                          {t('approve')} (A)
                        </button>
                      </p>
                    ))}
                  </div>
                )}
                {reading && <FieldRows reading={reading.r} locale={locale} />}
              </>
            )}
          </section>
        </div>
      )}
    </div>
  );
}
