//! `#[derive(Command)]` and `#[derive(Event)]` for the `thalo` crate: they list an enum's variant
//! names (the aggregate's commands or events) and route each variant to the aggregate's
//! `Handle<…>` or `Apply<…>` implementation.
//!
//! An enum whose variants all hold exactly one unnamed field is *external*: each variant's type
//! has its own `Handle<T>` (or `Apply<T>`), and `From<T>` is implemented for the enum so that
//! `events![Incremented { amount }]` converts. Any other enum is *inline*: one `Handle<Enum>`
//! (or `Apply<Enum>`) takes the whole enum.
use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Fields, Type};

/// `#[derive(Command, Deserialize)]` on the aggregate's command enum.
#[proc_macro_derive(Command)]
pub fn derive_command(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input, Kind::Command).unwrap_or_else(|e| e.to_compile_error()).into()
}

/// `#[derive(Event, Serialize, Deserialize)]` on the aggregate's event enum.
#[proc_macro_derive(Event)]
pub fn derive_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input, Kind::Event).unwrap_or_else(|e| e.to_compile_error()).into()
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Command,
    Event,
}

fn expand(input: &DeriveInput, kind: Kind) -> syn::Result<Tokens> {
    let what = if kind == Kind::Command { "Command" } else { "Event" };
    let data = match &input.data {
        Data::Enum(data) => data,
        _ => {
            return Err(syn::Error::new_spanned(
                &input.ident,
                format!("#[derive({})] needs an enum, one variant per {}", what, what.to_lowercase()),
            ))
        }
    };
    if data.variants.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.ident,
            format!("#[derive({})] needs at least one variant", what),
        ));
    }
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            format!("#[derive({})] does not take generic enums", what),
        ));
    }
    let name = &input.ident;
    let names: Vec<String> = data.variants.iter().map(|v| v.ident.to_string()).collect();
    let idents: Vec<_> = data.variants.iter().map(|v| &v.ident).collect();
    // External: every variant wraps one type, which has its own Handle/Apply impl.
    let inner: Option<Vec<&Type>> = data
        .variants
        .iter()
        .map(|v| match &v.fields {
            Fields::Unnamed(f) if f.unnamed.len() == 1 => Some(&f.unnamed[0].ty),
            _ => None,
        })
        .collect();
    let patterns: Vec<Tokens> = data
        .variants
        .iter()
        .map(|v| {
            let ident = &v.ident;
            match &v.fields {
                Fields::Unit => quote!(#name::#ident),
                Fields::Unnamed(_) => quote!(#name::#ident(..)),
                Fields::Named(_) => quote!(#name::#ident { .. }),
            }
        })
        .collect();

    let mut out = Tokens::new();
    match kind {
        Kind::Command => {
            out.extend(quote! {
                impl ::thalo::Command for #name {
                    const NAMES: &'static [&'static str] = &[#(#names),*];
                }
            });
            out.extend(match &inner {
                Some(types) => quote! {
                    impl<A> ::thalo::__private::HandleWith<A> for #name
                    where
                        A: ::thalo::Aggregate #(+ ::thalo::Handle<#types>)*,
                    {
                        fn handle_with(self, aggregate: &A) -> ::core::result::Result<::std::vec::Vec<<A as ::thalo::Aggregate>::Event>, ::thalo::Rejection> {
                            match self {
                                #(#name::#idents(command) => <A as ::thalo::Handle<#types>>::handle(aggregate, command).map_err(::core::convert::Into::into),)*
                            }
                        }
                    }
                },
                None => quote! {
                    impl<A> ::thalo::__private::HandleWith<A> for #name
                    where
                        A: ::thalo::Aggregate + ::thalo::Handle<#name>,
                    {
                        fn handle_with(self, aggregate: &A) -> ::core::result::Result<::std::vec::Vec<<A as ::thalo::Aggregate>::Event>, ::thalo::Rejection> {
                            <A as ::thalo::Handle<#name>>::handle(aggregate, self).map_err(::core::convert::Into::into)
                        }
                    }
                },
            });
        }
        Kind::Event => {
            out.extend(quote! {
                impl ::thalo::Event for #name {
                    const NAMES: &'static [&'static str] = &[#(#names),*];
                    fn event_type(&self) -> &'static str {
                        match self {
                            #(#patterns => #names,)*
                        }
                    }
                }
            });
            out.extend(match &inner {
                Some(types) => quote! {
                    impl<A> ::thalo::__private::ApplyTo<A> for #name
                    where
                        A: ::thalo::Aggregate #(+ ::thalo::Apply<#types>)*,
                    {
                        fn apply_to(self, aggregate: &mut A) {
                            match self {
                                #(#name::#idents(event) => <A as ::thalo::Apply<#types>>::apply(aggregate, event),)*
                            }
                        }
                    }
                },
                None => quote! {
                    impl<A> ::thalo::__private::ApplyTo<A> for #name
                    where
                        A: ::thalo::Aggregate + ::thalo::Apply<#name>,
                    {
                        fn apply_to(self, aggregate: &mut A) {
                            <A as ::thalo::Apply<#name>>::apply(aggregate, self)
                        }
                    }
                },
            });
            // `events![Incremented { amount }]` converts each event into the enum; a type held
            // by two variants gets no conversion (it would be ambiguous).
            if let Some(types) = &inner {
                for (i, ty) in types.iter().enumerate() {
                    let key = quote!(#ty).to_string();
                    if types.iter().filter(|t| quote!(#t).to_string() == key).count() > 1 {
                        continue;
                    }
                    let ident = idents[i];
                    out.extend(quote! {
                        impl ::core::convert::From<#ty> for #name {
                            fn from(event: #ty) -> Self {
                                #name::#ident(event)
                            }
                        }
                    });
                }
            }
        }
    }
    Ok(out)
}
