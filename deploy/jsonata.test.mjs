// Evaluates the JSONata expressions of the state machines with the jsonata
// package (the language Step Functions implements): input validation, the
// day of the daily run, the exit-status classification and the retry
// schedule. Run by .ci/run: node --test deploy/ (jsonata from npm).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(process.env.CONVERT_NODE_MODULES ? process.env.CONVERT_NODE_MODULES + '/' : import.meta.url);
const jsonata = require('jsonata');

const load = (file) => JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8'));
const daily = load('./state-machine-daily.asl.json');
const backfill = load('./state-machine-backfill.asl.json');
const items = backfill.States.ConvertItems.ItemProcessor.States;

// evaluate runs one "{% … %}" expression with $states bound as Step Functions binds it.
async function evaluate(expr, input, context = { Execution: { StartTime: '2024-03-01T01:30:00.000Z', Name: 'backfill-1' } }) {
  assert.match(expr, /^\{%[\s\S]*%\}$/);
  return jsonata(expr.slice(2, -2)).evaluate({}, { states: { input, context } });
}

// The ECS task description Step Functions gives as the cause of States.TaskFailed.
const stopped = (exitCode, stopCode = 'EssentialContainerExited') => JSON.stringify({
  Containers: [exitCode === undefined ? { Name: 'convert', LastStatus: 'STOPPED' } : { Name: 'convert', ExitCode: exitCode, LastStatus: 'STOPPED' }],
  LastStatus: 'STOPPED', StopCode: stopCode, StoppedReason: 'Essential container in task exited',
});

test('daily input validation', async () => {
  const cond = daily.States.ValidateInput.Choices[0].Condition;
  for (const ok of [{}, { date: '2024-01-31' }, { date: '2024-12-01' }]) {
    assert.equal(await evaluate(cond, ok), true, JSON.stringify(ok));
  }
  for (const bad of [{ date: null }, { date: '2024-1-1' }, { date: 20240101 }, { date: '2024-13-01' }, { date: '2024-01-32' }, { date: 'yesterday' }]) {
    assert.equal(await evaluate(cond, bad), false, JSON.stringify(bad));
  }
  assert.equal(daily.States.ValidateInput.Default, 'InvalidInput');
});

test('daily day: yesterday from the start time, or the given date', async () => {
  const day = daily.States.ResolveDay.Output.day;
  assert.equal(await evaluate(day, {}), '2024-02-29');
  assert.equal(await evaluate(day, {}, { Execution: { StartTime: '2024-01-01T00:10:00Z' } }), '2023-12-31');
  assert.equal(await evaluate(day, { date: '2023-06-15' }), '2023-06-15');
});

test('backfill input validation', async () => {
  const cond = backfill.States.ValidateInput.Choices[0].Condition;
  for (const ok of [{ from: '2024-01-01', to: '2024-01-31' }, { from: '2024-01-01', to: '2024-01-01', verify: true }, { from: '2024-01-01', to: '2024-02-01', verify: false }]) {
    assert.equal(await evaluate(cond, ok), true, JSON.stringify(ok));
  }
  for (const bad of [{}, { from: '2024-01-01' }, { to: '2024-01-01' }, { from: '2024-02-01', to: '2024-01-01' }, { from: '2024-01-01', to: null },
    { from: '2024-01-01', to: '2024-01-31', verify: 'yes' }, { date: '2024-01-01' }]) {
    assert.equal(await evaluate(cond, bad), false, JSON.stringify(bad));
  }
  const loc = backfill.States.PlanLocation.Output;
  assert.equal(await evaluate(loc.plan.key, {}), '${OutputPrefix}_plans/backfill-1.json');
  assert.equal(await evaluate(loc.verify, { from: 'a', to: 'b' }), false);
});

const classifiers = [['daily', daily.States.ExitStatus], ['plan', backfill.States.PlanExitStatus], ['item', items.ItemExitStatus]];

test('every task is classified by the same expression', () => {
  for (const [, c] of classifiers) assert.equal(c.Output, daily.States.ExitStatus.Output);
});

test('exit status 75 and infrastructure stops are retried; 1, 2, user stops and timeouts are not', async () => {
  const cases = [
    ['States.TaskFailed', stopped(75), true, /exit status 75/],
    ['States.TaskFailed', stopped(1), false, /exit status 1: the run failed for a reason no retry fixes/],
    ['States.TaskFailed', stopped(2), false, /exit status 2: bad arguments/],
    ['States.TaskFailed', stopped(undefined, 'TaskFailedToStart'), true, /TaskFailedToStart/],
    ['States.TaskFailed', stopped(143, 'SpotInterruption'), true, /exit status 143 \(SpotInterruption\)/],
    ['States.TaskFailed', stopped(143, 'UserInitiated'), false, /exit status 143 \(UserInitiated\)/],
    ['States.TaskFailed', stopped(undefined, 'UserInitiated'), false, /UserInitiated/],
    ['States.Timeout', undefined, false, /States.Timeout/],
    ['ECS.AmazonECSException', 'Rate exceeded', false, /ECS.AmazonECSException/],
  ];
  for (const [, c] of classifiers) {
    for (const [error, cause, retryable, why] of cases) {
      const out = await evaluate(c.Output, { day: '2024-01-01', id: '00003', tries: 0, error: { Error: error, Cause: cause } });
      assert.equal(out.retryable, retryable, `${error} ${cause}`);
      assert.match(out.why, why);
      assert.equal(out.tries, 1);
      assert.equal(out.day, '2024-01-01', 'the input is kept');
    }
  }
});

test('three retries after 60, 120 and 240 s, then the last try; no retry of a permanent failure', async () => {
  for (const [machine, states, prefix] of [['daily', daily.States, ''], ['plan', backfill.States, 'Plan'], ['item', items, 'Item']]) {
    const choice = states[prefix ? `${prefix}RetryOrFail` : 'RetryOrFail'];
    let input = { tries: 0, error: { Error: 'States.TaskFailed', Cause: stopped(75) } };
    const path = [];
    for (;;) {
      input = await evaluate(states[prefix ? `${prefix}ExitStatus` : 'ExitStatus'].Output, input);
      let next = choice.Default;
      for (const rule of choice.Choices) {
        if (await evaluate(rule.Condition, input)) { next = rule.Next; break; }
      }
      const wait = states[next];
      assert.equal(wait.Type, 'Wait', `${machine}: ${next}`);
      assert.equal(wait.SecondsPath, '$.wait');
      path.push(input.wait);
      if (states[wait.Next].Catch === undefined) break; // the last try
    }
    assert.deepEqual(path, [60, 120, 240], machine);
    input = await evaluate(states[prefix ? `${prefix}ExitStatus` : 'ExitStatus'].Output, { tries: 0, error: { Error: 'States.TaskFailed', Cause: stopped(1) } });
    for (const rule of choice.Choices) assert.equal(await evaluate(rule.Condition, input), false, machine);
    assert.equal(states[choice.Default].Type, 'Fail');
  }
});

test('failure messages say what a redrive does', async () => {
  const input = { day: '2024-01-01', from: '2024-01-01', to: '2024-01-31', id: '00003', plan: 's3://b/p/_plans/x.json', why: 'exit status 1: …',
    error: { Error: 'States.TaskFailed', Cause: stopped(1) } };
  const daily1 = await evaluate(daily.States.ConversionFailed.Cause, input);
  assert.match(daily1, /A redrive of this execution fails the same way/);
  assert.match(daily1, /start a new execution with \{"date": "2024-01-01"\}/);
  assert.match(await evaluate(items.ItemFailed.Cause, input), /A redrive of the backfill reruns only the items that did not succeed/);
  assert.match(await evaluate(backfill.States.PlanFailed.Cause, input), /A redrive of this execution fails the same way/);
  assert.equal(await evaluate(items.ItemFailed.Error, input), 'States.TaskFailed');
  assert.equal(backfill.States.ConvertItems.Catch, undefined, 'a failed Map fails the execution in the Map: a redrive reruns the failed items');
});
