import { Bar, BarChart, Cell, LabelList, ResponsiveContainer, XAxis, YAxis } from 'recharts';
import { formatPct } from '../lib/format.js';

export interface ShareDatum {
  id: string;
  label: string;
  pct: number;
  colour: string;
}

/** Horizontal bars of each paslon's share, in nomor urut order (never re-sorted live). */
export default function SharesChart({ data, locale }: { data: ShareDatum[]; locale: string }) {
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={data} layout="vertical" margin={{ top: 4, right: 56, bottom: 4, left: 4 }}>
        <XAxis type="number" domain={[0, 100]} hide />
        <YAxis type="category" dataKey="label" width={90} tickLine={false} axisLine={false} />
        <Bar dataKey="pct" isAnimationActive={false} barSize={22}>
          {data.map((d) => (
            <Cell key={d.id} fill={d.colour} />
          ))}
          <LabelList dataKey="pct" position="right" fill="#1b1f24" formatter={(v: unknown) => formatPct(Number(v) / 100, locale, 1)} />
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  );
}
