-- Section 5.4: green category and the rule that fired, for every notice (CPV codes, title and
-- description) and every distinct payment expense description (keywords only: payments carry no CPV).
-- Descriptions are classified once each, not once per payment line.
-- When several rules fire the strongest wins: core CPV, then ambiguous CPV confirmed by its qualifier,
-- then keyword; then the longer (more specific) CPV prefix, then the seed's priority, then rule id.
-- Exclusion terms veto every match that rests on words - keyword matches and ambiguous CPV codes
-- confirmed by a qualifier - of their category (or of all categories when the category is blank);
-- only core CPV codes stand regardless of the wording.
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

subjects as (
    select
        'notice' as subject_type,
        source || '|' || ocid as subject_id,
        coalesce(title, '') || ' ' || coalesce(description, '') as subject_text
    from {{ ref('int_ocds__compiled_releases') }}
    union all
    select distinct
        'payment_description' as subject_type,
        expense_description as subject_id,
        expense_description as subject_text
    from {{ ref('int_spend__payments_deduplicated') }}
    where expense_description is not null
),

codes as (
    select 'notice' as subject_type, source || '|' || ocid as subject_id, cpv_code
    from {{ ref('int_ocds__compiled_classifications') }}
),

cpv_matches as (
    select distinct
        c.subject_type,
        c.subject_id,
        s.subject_text,
        r.rule_id,
        r.category,
        r.kind,
        r.pattern,
        r.priority
    from codes as c
    inner join rules as r
        on r.kind in ('core', 'ambiguous')
       and c.cpv_code like r.pattern || '%'
    inner join subjects as s
        on s.subject_type = c.subject_type and s.subject_id = c.subject_id
    where r.kind = 'core'
       or {{ regex_contains('s.subject_text', 'r.qualifier') }}
),

keyword_matches as (
    select
        s.subject_type,
        s.subject_id,
        s.subject_text,
        r.rule_id,
        r.category,
        r.kind,
        r.pattern,
        r.priority
    from subjects as s
    inner join rules as r
        on r.kind = 'keyword'
       and {{ regex_contains('s.subject_text', 'r.pattern') }}
),

matches as (
    select * from cpv_matches
    union all
    select * from keyword_matches
),

unvetoed as (
    select m.*
    from matches as m
    where m.kind = 'core'
       or not exists (
            select 1
            from rules as x
            where x.kind = 'exclusion'
              and (x.category is null or x.category = m.category)
              and {{ regex_contains('m.subject_text', 'x.pattern') }}
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
    subject_type,
    subject_id,
    category as green_category,
    rule_id as green_rule
from ranked
where match_rank = 1
