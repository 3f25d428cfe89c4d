{#- Section 4 and 5.1 of the warehouse contract, as SQL expressions. Regular expressions are RE2
    (DuckDB); they are the part a port to another warehouse has to check. -#}

{#- Company number: upper case, no spaces, left-padded with zeros to 8 (4103211 -> 04103211). -#}
{% macro company_number(expr) -%}
    case
        when nullif(trim({{ expr }}), '') is null then null
        else lpad(upper(replace(trim({{ expr }}), ' ', '')), 8, '0')
    end
{%- endmacro %}

{#- Name normalisation in the contract's order: accents removed (DuckDB strip_accents; compatibility
    characters such as ligatures are not folded), upper case, & -> AND, non letters/digits -> space,
    spaces collapsed and trimmed, a leading THE dropped, whole tokens LTD -> LIMITED and CO -> COMPANY. -#}
{% macro normalise_name(expr) -%}
    nullif(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    trim(regexp_replace(
                        replace(upper(strip_accents({{ expr }})), '&', ' AND '),
                        '[^\pL\pN]+', ' ', 'g')),
                    '^THE ', ''),
                '\bLTD\b', 'LIMITED', 'g'),
            '\bCO\b', 'COMPANY', 'g'),
        '')
{%- endmacro %}

{#- A UK postcode as text: outward code, optional spaces, inward code. -#}
{% macro _postcode_pattern() -%}[A-Z]{1,2}[0-9][A-Z0-9]? *[0-9][A-Z]{2}{%- endmacro %}

{#- Normalised UK postcode ('AA1 1AA') from a postal-code field, or null when it is not one. -#}
{% macro normalise_postcode(expr) -%}
    case
        when regexp_full_match(upper(replace(trim({{ expr }}), ' ', '')), '[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}')
        then left(upper(replace(trim({{ expr }}), ' ', '')), length(upper(replace(trim({{ expr }}), ' ', ''))) - 3)
             || ' ' || right(upper(replace(trim({{ expr }}), ' ', '')), 3)
    end
{%- endmacro %}

{#- The last UK postcode written inside free text, normalised. Capitals are tried first: postcodes are
    normally written in capitals, and lower-case letters before one (e.g. the `rn` left where line breaks
    were stripped, "Oxfordshire, rnOX26 6AD") must not be read as part of it. Only when the text has no
    capitalised postcode is it searched case-insensitively ("... Walsall ws1 3lr"). -#}
{% macro postcode_in_text(expr) -%}
    {%- set capitals = "list_last(regexp_extract_all(" ~ expr ~ ", '(?:^|[^A-Z0-9])(" ~ _postcode_pattern() ~ ")(?:[^A-Za-z0-9]|$)', 1))" -%}
    {%- set any_case = "list_last(regexp_extract_all(upper(" ~ expr ~ "), '(?:^|[^A-Z0-9])(" ~ _postcode_pattern() ~ ")(?:[^A-Z0-9]|$)', 1))" -%}
    {{ normalise_postcode("coalesce(" ~ capitals ~ ", " ~ any_case ~ ")") }}
{%- endmacro %}

{#- Section 5.3: the narrowest level that holds. Unknown when either side has no district; the
    combined-authority and region levels need the buyer's district in the geography seed. -#}
{% macro locality(supplier_lad, buyer_lad, supplier_ca, buyer_ca, supplier_region, buyer_region) -%}
    case
        when {{ supplier_lad }} is null or {{ buyer_lad }} is null then 'unknown'
        when {{ supplier_lad }} = {{ buyer_lad }} then 'in_authority'
        when {{ buyer_ca }} is not null and {{ supplier_ca }} = {{ buyer_ca }} then 'in_combined_authority'
        when {{ buyer_region }} is not null and {{ supplier_region }} = {{ buyer_region }} then 'in_region'
        else 'elsewhere'
    end
{%- endmacro %}

{#- True when `expr` contains a match of the RE2 regular expression `pattern`. -#}
{% macro regex_contains(expr, pattern) -%}
    regexp_matches({{ expr }}, {{ pattern }})
{%- endmacro %}
