-- Every loaded payment line, ranked among its republished copies (section 5.2).
-- A payment is the same payment when publisher, transaction number, date, amount and payee match, or,
-- without a transaction number, date, amount, payee and description. Lines that repeat inside one file
-- are genuine repeat payments: the k-th such line of each file is matched only with the k-th line of
-- the other files, and copy_rank 1 is the copy in the earliest-loaded file.
-- Names are normalised once per distinct spelling, not once per line (a few thousand payees pay
-- millions of lines).
-- Incremental: a night ranks only the lines of files not ranked yet. Files are loaded after every file
-- already ranked, so their copies rank after the copies already here and no existing rank changes;
-- a new line's rank is its rank among the new lines plus the copies already ranked. Lines leave
-- raw.spend_payments only when a feed replaces an earlier version, and then the pipeline rebuilds this
-- model in full (flows/transform.py).
-- Ranking is the costly part at national scale: a window sorts every line it sees by its partition
-- keys. Nearly every line is the only line with its payment identity, and a line whose identity hash
-- no other line shares is certainly alone (equal identities hash equally), so it is occurrence 1 and
-- copy 1 without a sort. Only lines whose hash repeats - repeats, republished copies, and the rare
-- hash collision, which the windows' exact partition keys keep apart - are ranked by the windows, on
-- their key columns only; the whole line is read once more at the end. The lines are not materialised
-- in between (each branch reads the columns it needs straight from the table).
{{ config(materialized='incremental', incremental_strategy='append') }}
with new_lines as not materialized (
    select *
    from {{ ref('stg_spend__payments') }}
    {% if is_incremental() %}
    where {{ in_files_not_yet_in(this, ref('stg_spend__payments')) }}
    {% endif %}
),

payees as (
    select
        supplier_name,
        {{ normalise_name('supplier_name') }} as payee_normalised
    from (select distinct supplier_name from new_lines where supplier_name is not null) as names
),

identified as not materialized (
    select
        p.*,
        n.payee_normalised,
        case when p.transaction_number is null then p.expense_description end as dedup_description,
        hash(p.publisher_id, p.transaction_number, p.payment_date, p.amount_gbp, n.payee_normalised,
             case when p.transaction_number is null then p.expense_description end) as identity_hash
    from new_lines as p
    left join payees as n on n.supplier_name = p.supplier_name
),

shared_identities as (
    select identity_hash
    from identified
    group by identity_hash
    having count(*) > 1
),

files as (
    select source_file, min(loaded_at) as file_loaded_at
    from new_lines
    group by source_file
),

occurrences as (
    select
        p.source_file, p.source_row, p.publisher_id, p.transaction_number, p.payment_date, p.amount_gbp,
        p.payee_normalised, p.dedup_description,
        row_number() over (
            partition by
                p.publisher_id, p.source_file, p.transaction_number, p.payment_date, p.amount_gbp,
                p.payee_normalised, p.dedup_description
            order by p.source_row
        ) as occurrence_in_file
    from identified as p
    semi join shared_identities as s on s.identity_hash = p.identity_hash
),

shared_ranked as (
    select
        o.source_file,
        o.source_row,
        o.occurrence_in_file,
        row_number() over (
            partition by
                o.publisher_id, o.transaction_number, o.payment_date, o.amount_gbp, o.payee_normalised,
                o.dedup_description, o.occurrence_in_file
            order by f.file_loaded_at, o.source_file
        ) as rank_among_new
    from occurrences as o
    inner join files as f on f.source_file = o.source_file
),

ranked as (
    select
        p.*,
        coalesce(s.occurrence_in_file, 1) as occurrence_in_file,
        coalesce(s.rank_among_new, 1) as rank_among_new
    from identified as p
    left join shared_ranked as s on s.source_file = p.source_file and s.source_row = p.source_row
){% if is_incremental() %},

earlier_copies as (
    select
        e.publisher_id, e.transaction_number, e.payment_date, e.amount_gbp, e.payee_normalised,
        case when e.transaction_number is null then e.expense_description end as dedup_description,
        e.occurrence_in_file,
        count(*) as n_copies
    from {{ this }} as e
    where e.publisher_id in (select distinct publisher_id from new_lines)
    group by all
){% endif %}

select
    r.payment_key,
    r.publisher_id,
    r.source_file,
    r.source_row,
    r.file_sha256,
    r.payment_date,
    r.amount_gbp,
    r.supplier_name,
    r.payee_normalised,
    r.is_redacted,
    r.supplier_id,
    r.transaction_number,
    r.expense_description,
    r.expense_area,
    {{ company_number('r.company_number') }} as company_number,
    r.vat_number,
    {{ normalise_postcode('r.supplier_postcode') }} as supplier_postcode,
    r.loaded_at,
    r.occurrence_in_file,
    {% if is_incremental() %}coalesce(e.n_copies, 0) + {% endif %}r.rank_among_new as copy_rank
from ranked as r
{% if is_incremental() %}
left join earlier_copies as e
    on e.publisher_id = r.publisher_id
   and e.transaction_number is not distinct from r.transaction_number
   and e.payment_date is not distinct from r.payment_date
   and e.amount_gbp is not distinct from r.amount_gbp
   and e.payee_normalised is not distinct from r.payee_normalised
   and e.dedup_description is not distinct from r.dedup_description
   and e.occurrence_in_file = r.occurrence_in_file
{% endif %}
