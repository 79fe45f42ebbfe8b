import { Box, Text } from 'ink';
import { useEffect, useRef, useState } from 'react';
import type { ParamDef } from '../../core/checklist/types.js';
import { coerceParam, type ParamSuggestion } from '../../core/params.js';
import { useUi, type ScreenKeys } from '../context.js';
import { ScreenFrame } from '../frame.js';
import { cellWidth, fitCells } from '../cells.js';
import { clamp, screenLine, windowAround, wrap } from '../text.js';
import { useTheme } from '../theme.js';
import type { ChecklistEntry } from '../types.js';

/** One field's problem, or null: the same rules `run -p` applies (core/params), checked as the operator types. */
export function checkField(name: string, def: ParamDef, raw: string): string | null {
  if (raw.trim() === '') return def.required ? `${name} is required${def.description ? ` (${def.description})` : ''}` : null;
  const r = coerceParam(name, def, raw);
  return r.ok ? null : r.message;
}

function initial(def: ParamDef): string {
  if (def.default !== undefined) return String(def.default);
  if (def.type === 'enum' && def.choices?.length) return def.required ? '' : '';
  if (def.type === 'boolean') return 'false';
  return '';
}

function cycle(def: ParamDef, value: string, dir: 1 | -1): string {
  const choices = def.type === 'boolean' ? ['false', 'true'] : (def.choices ?? []).map(String);
  if (!choices.length) return value;
  const i = choices.indexOf(value);
  return choices[(i + dir + choices.length) % choices.length] ?? choices[0];
}

/** The parameters of a checklist, asked before it starts: defaults filled in, each value checked, nothing starts until all are good. */
export function ParamForm({ checklist }: { checklist: ChecklistEntry }) {
  const ui = useUi();
  const t = useTheme();
  const names = Object.keys(checklist.params);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(names.map((n) => [n, checklist.given?.[n] ?? initial(checklist.params[n])])),
  );
  const [suggested, setSuggested] = useState<Record<string, ParamSuggestion>>({});
  const [errors, setErrors] = useState<Record<string, string | null>>({});
  const [field, setField] = useState(0);
  const [starting, setStarting] = useState(false);
  const name = names[field];
  const def = name ? checklist.params[name] : undefined;
  const choiceField = def && (def.type === 'enum' || def.type === 'boolean');

  // Values change through `valuesRef` as well as state: keys can arrive faster than renders, and each must see the
  // value the one before it made.
  const valuesRef = useRef(values);
  valuesRef.current = values;
  // Whether the operator has typed or moved yet: a suggestion arriving later then leaves the cursor where it is.
  const touched = useRef(false);
  const set = (change: (old: string) => string) => {
    if (!name || !def) return;
    touched.current = true;
    const value = change(valuesRef.current[name] ?? '');
    valuesRef.current = { ...valuesRef.current, [name]: value };
    setValues(valuesRef.current);
    // A complaint goes away as soon as the value is good; it only appears on leaving the field or submitting.
    if (errors[name]) setErrors((e) => ({ ...e, [name]: checkField(name, def, value) }));
  };

  // Suggestions (versions read from git) arrive after the first frame; each fills its field if it is still empty.
  const services = ui.services;
  const id = checklist.id;
  useEffect(() => {
    let live = true;
    services.suggest?.(id).then(
      (got) => {
        if (!live) return;
        setSuggested(got);
        const fill = Object.entries(got).filter(([n, g]) => g.value !== null && (valuesRef.current[n] ?? '') === '');
        if (!fill.length) return;
        valuesRef.current = { ...valuesRef.current, ...Object.fromEntries(fill.map(([n, g]) => [n, g.value!])) };
        setValues(valuesRef.current);
        // A field filled now is no longer "required" (↵ pressed before the suggestion came): its complaint is checked again.
        setErrors((e) => {
          const next = { ...e };
          for (const [n] of fill) if (e[n]) next[n] = checkField(n, checklist.params[n], valuesRef.current[n]);
          return next;
        });
        // The cursor goes to the first field still to be typed (a hotfix's issue, its version suggested).
        const empty = names.findIndex((n) => checklist.params[n].required && (valuesRef.current[n] ?? '') === '');
        if (empty >= 0 && !touched.current) setField(empty);
      },
      () => undefined, // no suggestion: the fields stay as they are
    );
    return () => {
      live = false;
    };
  }, [services, id]);

  const leave = (to: number) => {
    touched.current = true;
    if (name && def) setErrors((e) => ({ ...e, [name]: checkField(name, def, values[name]) }));
    setField(clamp(to, 0, Math.max(0, names.length - 1)));
  };

  const submit = () => {
    if (starting) return;
    const found = Object.fromEntries(names.map((n) => [n, checkField(n, checklist.params[n], values[n])]));
    setErrors(found);
    const bad = names.findIndex((n) => found[n]);
    if (bad >= 0) {
      setField(bad);
      return ui.flash(`${names.filter((n) => found[n]).length} value(s) to fix before ${checklist.id} can start`, 'error');
    }
    setStarting(true);
    ui.flash(`starting ${checklist.id}…`);
    const given = Object.fromEntries(names.filter((n) => values[n].trim() !== '').map((n) => [n, values[n].trim()]));
    ui.services.start(checklist.id, given, checklist.yes, checklist.recoverySince).then(
      (controls) => ui.go({ name: 'session', controls }),
      (e: Error) => {
        setStarting(false);
        ui.flash(e.message, 'error');
      },
    );
  };

  const keys: ScreenKeys = {
    layer: 'form',
    mode: 'FORM',
    // A text field takes every character typed (q, ?, j are text there); ctrl-c quits.
    typing: !!def && !choiceField,
    empty: (values[name] ?? '') === '',
    available: (c) => {
      switch (c) {
        case 'form.choice-next':
        case 'form.choice-prev':
          return !!choiceField;
        case 'form.erase':
          return !!def && !choiceField && (values[name] ?? '') !== '';
        // There is no field after the last or before the first.
        case 'form.next':
          return field < names.length - 1;
        case 'form.prev':
          return field > 0;
        default:
          return true;
      }
    },
    onCommand: (c) => {
      switch (c) {
        case 'form.next':
          return leave(field + 1);
        case 'form.prev':
          return leave(field - 1);
        case 'form.choice-next':
          return def && set((old) => cycle(def, old, 1));
        case 'form.choice-prev':
          return def && set((old) => cycle(def, old, -1));
        case 'form.erase':
          return set((old) => old.slice(0, -1));
        case 'form.submit':
          return submit();
        case 'form.cancel':
          return ui.go({ name: 'home' });
        default:
          // Another layer's command: the root handler never routes it to this screen.
          break;
      }
    },
    onText: (text) => {
      if (!def || choiceField) return;
      set((old) => old + text.replace(/[\r\n\t]/g, ''));
    },
  };

  const width = ui.width;
  const labelWidth = Math.min(24, Math.max(8, ...names.map((n) => n.length + 2)));
  const rowsPer = 2;
  // The description in two rows at most (wrapped; a longer one ends with … on the second).
  const about = checklist.description
    ? wrap(screenLine(checklist.description), width)
    : [names.length ? 'Its parameters (defaults filled in):' : 'This checklist takes no parameters: ↵ starts it.'];
  const aboutRows = [
    ...(about.length > 2 ? [about[0], fitCells(`${about[1]} ${about[2]}`, width)] : about),
    // Started with R from a watch: say where its recovery clock will count from.
    ...(checklist.recoverySince
      ? [fitCells(`Its recovery clock counts from the breach in the watch of session ${checklist.recoverySince}.`, width)]
      : []),
  ];
  // The field being filled in shows its whole description (a suggested version's reason), wrapped in up to 4 rows;
  // the others one row each.
  const indent = labelWidth + 3;
  // Under a field: why the value shown is suggested (or why none could be), else what it is (its problem comes first).
  const noteOf = (n: string): string => {
    const sug = suggested[n];
    const v = values[n] ?? '';
    return sug && (sug.value === null ? v === '' : v === sug.value)
      ? `${sug.value === null ? 'nothing to suggest' : 'suggested'}: ${sug.reason}`
      : (checklist.params[n]?.description ?? '');
  };
  const activeNote = name ? noteOf(name) : '';
  const activeAbout = activeNote ? wrap(screenLine(activeNote), width - indent).slice(0, 4) : [''];
  const room = Math.max(1, Math.floor((ui.height - 3 - aboutRows.length - (activeAbout.length - 1)) / rowsPer));
  const w = windowAround(names.length, field, room);
  return (
    <ScreenFrame keys={keys}>
      <Text bold wrap="truncate-end">
        Start {screenLine(checklist.title)} <Text color={t.muted}>[{screenLine(checklist.id)}]</Text>
      </Text>
      {aboutRows.map((l, i) => (
        <Text key={`about${i}`} color={t.muted} wrap="truncate-end">
          {l}
        </Text>
      ))}
      <Text> </Text>
      {names.slice(w.start, w.end).map((n, k) => {
        const i = w.start + k;
        const d = checklist.params[n];
        const active = i === field;
        const v = values[n] ?? '';
        const shown = d.secret ? '•'.repeat(v.length) : screenLine(v);
        const kind =
          d.type === 'enum'
            ? `one of ${(d.choices ?? []).join(' | ')} (←/→)`
            : d.type === 'boolean'
              ? 'yes/no: true | false (←/→)'
              : d.type === 'semver'
                ? 'a version like 2.4.0'
                : d.type;
        const err = errors[n];
        const note = noteOf(n);
        return (
          <Box key={n} flexDirection="column" height={1 + (active && !err ? activeAbout.length : 1)} width={width}>
            <Text wrap="truncate-end">
              <Text bold={active} inverse={active}>
                {(active ? '› ' : '  ') + n.padEnd(labelWidth)}
              </Text>{' '}
              <Text underline>{shown || ' '}</Text>
              {active && !(d.type === 'enum' || d.type === 'boolean') ? '█' : ''}
              <Text color={t.muted}>
                {'  '}
                {d.required ? 'required · ' : ''}
                {kind}
                {d.secret ? ' · secret (never stored)' : ''}
              </Text>
            </Text>
            {active && !err ? (
              activeAbout.map((l, r) => (
                <Text key={r} wrap="truncate-end" color={t.muted}>
                  {' '.repeat(indent)}
                  {l}
                </Text>
              ))
            ) : (
              <Text wrap="truncate-end" color={err ? t.danger : t.muted}>
                {/* A complaint wider than the room under the value starts further left, so it is read whole. */}
                {' '.repeat(err ? Math.max(2, Math.min(indent, width - cellWidth(`✖ ${screenLine(err)}`))) : indent)}
                {err ? `✖ ${screenLine(err)}` : screenLine(note)}
              </Text>
            )}
          </Box>
        );
      })}
    </ScreenFrame>
  );
}
