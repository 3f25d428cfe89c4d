-- Section 5.4: green category and the rule that fired, for every notice (CPV codes, title and
-- description) and every distinct payment expense description (keywords only: payments carry no CPV).
-- One row per subject; green_category is null when no rule fires.
-- When several rules fire the strongest wins: core CPV, then ambiguous CPV confirmed by its qualifier,
-- then keyword; then the longer (more specific) CPV prefix, then the seed's priority, then rule id.
-- Exclusion terms veto every match that rests on words - keyword matches and ambiguous CPV codes
-- confirmed by a qualifier - of their category (or of all categories when the category is blank);
-- only core CPV codes stand regardless of the wording.
--
-- Speed: a regular expression taken from a column is compiled again for every row it is applied to
-- (about 20 us each), so testing every subject against every rule would take minutes at national
-- scale. Three things keep it small:
-- * incremental: a night classifies only the notices of processes with a release loaded since the
--   last build and the descriptions of payment lines loaded since (a description's text is its key, so
--   it never changes); a change of the rules seed makes the pipeline rebuild in full (flows/transform.py);
-- * each distinct text is tested once, however many subjects share it;
-- * the pre-hook puts all keyword patterns, as one alternation, into a DuckDB variable, which the planner
--   folds into a constant compiled once; only texts it matches - a superset of those any keyword rule
--   matches - are tested rule by rule. Where the hook has not run (dbt unit tests) the variable is null
--   and every text is tested.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['subject_type', 'subject_id'],
    pre_hook="set variable green_keywords_any = (select string_agg('(?:' || pattern || ')', '|')
                                                 from {{ ref('green_rules') }} where kind = 'keyword')"
) }}
with rules as (
    select
        rule_id,
        nullif(trim(category), '') as category,
        kind,
        pattern,
        nullif(trim(qualifier), '') as qualifier,
        priority
    from {{ ref('green_rules') }}
),

notices as (
    select
        r.source || '|' || r.ocid as subject_id,
        coalesce(r.title, '') || ' ' || coalesce(r.description, '') as subject_text,
        r.last_loaded_at as source_loaded_at
    from {{ ref('int_ocds__compiled_releases') }} as r
    {% if is_incremental() %}
    where r.last_loaded_at > {{ built_up_to('source_loaded_at', "subject_type = 'notice'") }}
    {% endif %}
),

notice_codes as (
    select c.source || '|' || c.ocid as subject_id, list(distinct c.cpv_code order by c.cpv_code) as cpv_codes
    from {{ ref('int_ocds__compiled_classifications') }} as c
    semi join notices as n on n.subject_id = c.source || '|' || c.ocid
    group by all
),

subjects as (
    select 'notice' as subject_type, n.subject_id, n.subject_text, c.cpv_codes, n.source_loaded_at
    from notices as n
    left join notice_codes as c on c.subject_id = n.subject_id
    union all
    select
        'payment_description' as subject_type,
        expense_description as subject_id,
        expense_description as subject_text,
        null::varchar[] as cpv_codes,
        max(loaded_at) as source_loaded_at
    from {{ ref('int_spend__payments_deduplicated') }}
    where expense_description is not null
    {% if is_incremental() %}
      and loaded_at > {{ built_up_to('source_loaded_at', "subject_type = 'payment_description'") }}
    {% endif %}
    group by expense_description
),

texts as (
    select distinct subject_text from subjects
),

keyword_texts as (
    select t.subject_text, r.rule_id, r.category, r.kind, r.pattern, r.priority
    from texts as t
    inner join rules as r
        on r.kind = 'keyword'
       and {{ regex_contains('t.subject_text', 'r.pattern') }}
    where getvariable('green_keywords_any') is null
       or {{ regex_contains('t.subject_text', "getvariable('green_keywords_any')") }}
),

subject_codes as (
    select subject_type, subject_id, subject_text, unnest(cpv_codes) as cpv_code
    from subjects
),

code_rules as (
    select distinct
        c.subject_type,
        c.subject_id,
        c.subject_text,
        r.rule_id,
        r.category,
        r.kind,
        r.pattern,
        r.qualifier,
        r.priority
    from subject_codes as c
    inner join rules as r
        on r.kind in ('core', 'ambiguous')
       and starts_with(c.cpv_code, r.pattern)
),

-- Qualifiers are tested once per distinct (text, rule), after the join: as a join condition the
-- planner would test them against every (code, rule) pair.
confirmed as (
    select subject_text, rule_id
    from (select distinct subject_text, rule_id, qualifier from code_rules where kind = 'ambiguous') as q
    where {{ regex_contains('q.subject_text', 'q.qualifier') }}
),

cpv_matches as (
    select c.subject_type, c.subject_id, c.subject_text, c.rule_id, c.category, c.kind, c.pattern, c.priority
    from code_rules as c
    where c.kind = 'core'
       or exists (select 1 from confirmed as q where q.subject_text = c.subject_text and q.rule_id = c.rule_id)
),

keyword_matches as (
    select
        s.subject_type,
        s.subject_id,
        s.subject_text,
        k.rule_id,
        k.category,
        k.kind,
        k.pattern,
        k.priority
    from subjects as s
    inner join keyword_texts as k on k.subject_text = s.subject_text
),

matches as (
    select * from cpv_matches
    union all
    select * from keyword_matches
),

-- Exclusion terms found in each distinct text that has a match resting on words.
excluded as (
    select distinct t.subject_text, x.category
    from (select distinct subject_text from matches where kind <> 'core') as t
    cross join (select category, pattern from rules where kind = 'exclusion') as x
    where {{ regex_contains('t.subject_text', 'x.pattern') }}
),

unvetoed as (
    select m.*
    from matches as m
    where m.kind = 'core'
       or not exists (
            select 1
            from excluded as x
            where x.subject_text = m.subject_text
              and (x.category is null or x.category = m.category)
        )
),

ranked as (
    select
        *,
        row_number() over (
            partition by subject_type, subject_id
            order by
                case kind when 'core' then 1 when 'ambiguous' then 2 else 3 end,
                case when kind in ('core', 'ambiguous') then length(pattern) else 0 end desc,
                priority,
                rule_id
        ) as match_rank
    from unvetoed
)

select
    s.subject_type,
    s.subject_id,
    r.category as green_category,
    r.rule_id as green_rule,
    s.source_loaded_at
from subjects as s
left join ranked as r
    on r.subject_type = s.subject_type
   and r.subject_id = s.subject_id
   and r.match_rank = 1
