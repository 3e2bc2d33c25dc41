import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import type { AreaChild, AreaTally } from '../../../server/contract/index.js';
import { formatInt, formatPct } from '../lib/format.js';
import { useI18n } from '../lib/i18n.js';
import { summarise } from '../lib/tally.js';

type SortKey = 'name' | 'tps' | 'progress' | 'leader' | 'margin' | 'turnout';

export function ChildTable({ items, tallies, search, onHover }: { items: AreaChild[]; tallies: Record<string, AreaTally | undefined>; search: string; onHover?(code: string | null): void }) {
  const { t, locale } = useI18n();
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'name', desc: false });
  const rows = useMemo(() => {
    const r = items.map((c) => ({ c, tally: tallies[c.code], s: summarise(tallies[c.code]) }));
    const val = (x: (typeof r)[number]): string | number => {
      switch (sort.key) {
        case 'name':
          return x.c.name;
        case 'tps':
          return x.c.tpsCount;
        case 'progress':
          return x.s.progress ?? -1;
        case 'leader':
          return x.s.leader?.candidate.number ?? 99;
        case 'margin':
          return x.s.margin ?? -1;
        case 'turnout':
          return x.s.turnout ?? -1;
      }
    };
    return r.sort((a, b) => {
      const va = val(a);
      const vb = val(b);
      const cmp = typeof va === 'string' ? va.localeCompare(vb as string, 'id') : va - (vb as number);
      return sort.desc ? -cmp : cmp;
    });
  }, [items, tallies, sort]);

  const header = (key: SortKey, label: string, num = false) => (
    <th className={num ? 'num' : ''} aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="sort" onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key !== 'name' }))}>
        {label}
        <span className="sort-mark">{sort.key === key ? (sort.desc ? ' ▼' : ' ▲') : ''}</span>
      </button>
    </th>
  );

  return (
    <div className="table-scroll">
    <table className="child-table" data-testid="child-table">
      <thead>
        <tr>
          {header('name', t('name'))}
          {header('tps', t('tps'), true)}
          {header('progress', t('modeProgress'), true)}
          {header('leader', t('leader'))}
          {header('margin', t('margin'), true)}
          {header('turnout', t('turnout'), true)}
        </tr>
      </thead>
      <tbody>
        {rows.map(({ c, tally, s }) => (
          <tr key={c.code} data-code={c.code} onMouseEnter={() => onHover?.(c.code)} onMouseLeave={() => onHover?.(null)}>
            <td>
              <Link to={`/wilayah/${c.code}${search}`}>{c.name}</Link>
            </td>
            <td className="num">{formatInt(c.tpsCount, locale)}</td>
            <td className="num">{tally ? `${formatInt(tally.tpsPublished, locale)} (${formatPct(s.progress, locale, 0)})` : '–'}</td>
            <td>
              {s.leader ? (
                <>
                  <span className="swatch" style={{ background: s.leader.candidate.colour }} />
                  {s.leader.candidate.number}. {s.leader.candidate.isEmptyColumn ? t('emptyColumn') : s.leader.candidate.headName}
                </>
              ) : (
                <span className="muted">{t('noData')}</span>
              )}
            </td>
            <td className="num">{formatPct(s.margin, locale, 1)}</td>
            <td className="num">{formatPct(s.turnout, locale, 1)}</td>
          </tr>
        ))}
      </tbody>
    </table>
    </div>
  );
}
